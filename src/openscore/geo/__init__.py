"""Places: the list of a country's cities (geonames), shared by the synthetic world
(``synth``) and the city map (``privacy``)."""
