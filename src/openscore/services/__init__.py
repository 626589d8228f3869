"""The behaviour behind the API and the web pages, one module per resource."""
