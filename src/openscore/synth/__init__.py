"""The synthetic population generator: people, cities, friends, events and outcomes.

``generate(parse_params(people=..., months=...), out)`` makes a world in the ledger's
input format; ``docs/synthetic-data.md`` describes every mechanism and what it measures
like.
"""

from openscore.synth.params import RunOptions, Shares, SynthParams, WorldParams, parse_params
from openscore.synth.run import generate

__all__ = ["RunOptions", "Shares", "SynthParams", "WorldParams", "generate", "parse_params"]
