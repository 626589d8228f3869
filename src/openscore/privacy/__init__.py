"""Private aggregates: the city credit map, released with differential privacy (OpenDP).

``release_city_map(people, cities, epsilon=1, k=20)`` draws one release (pure: no disk,
no registry); ``publish_city_map`` records its ε in the registry's ``dp_releases`` and
writes the map, the table and the release description; ``latest_map_release`` finds the
latest for the console and the public page. Principle 7; ``docs/privacy.md`` explains
the mechanism, the budget and the measured error.
"""

from openscore.privacy.city_map import (
    CITIES_COLUMNS,
    DEFAULT_EPSILON,
    DEFAULT_K,
    EPSILON_ABOVE_CAP,
    EPSILON_NOT_POSITIVE,
    K_BELOW_ONE,
    MAX_RELEASE_EPSILON,
    PEOPLE_COLUMNS,
    RELEASE_COLUMNS,
    CityMapRelease,
    check_parameters,
    mean_score_margin,
    measure_error,
    release_city_map,
    true_city_stats,
)
from openscore.privacy.mechanisms import map_measurements
from openscore.privacy.publish import (
    BUDGET_EXHAUSTED,
    DEFAULT_EPSILON_BUDGET,
    DEFAULT_SCOPE,
    MapReleaseFiles,
    check_budget,
    latest_map_release,
    publish_city_map,
    read_map_release,
    release_and_publish,
)
from openscore.privacy.sources import (
    place_people,
    public_cities,
    residences_from_file,
    residences_from_ledger,
    scores_from_file,
    scores_from_registry,
)

__all__ = [
    "BUDGET_EXHAUSTED",
    "CITIES_COLUMNS",
    "CityMapRelease",
    "DEFAULT_EPSILON",
    "DEFAULT_EPSILON_BUDGET",
    "DEFAULT_K",
    "DEFAULT_SCOPE",
    "EPSILON_ABOVE_CAP",
    "EPSILON_NOT_POSITIVE",
    "K_BELOW_ONE",
    "MAX_RELEASE_EPSILON",
    "MapReleaseFiles",
    "PEOPLE_COLUMNS",
    "RELEASE_COLUMNS",
    "check_budget",
    "check_parameters",
    "latest_map_release",
    "map_measurements",
    "mean_score_margin",
    "measure_error",
    "place_people",
    "public_cities",
    "publish_city_map",
    "read_map_release",
    "release_and_publish",
    "release_city_map",
    "residences_from_file",
    "residences_from_ledger",
    "scores_from_file",
    "scores_from_registry",
    "true_city_stats",
]
