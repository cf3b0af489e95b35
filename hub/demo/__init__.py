"""The simulated district: department systems in their native forms, with ground truth.

One seeded world (residents, households, houses, organizations, welfare, insurance, vehicles,
tickets, door events) is written out as each department keeps it: public security and social
insurance in SQL databases, civil affairs as Excel/CSV exports, property management behind a REST
API. Every record's true entity is in truth/, so tests can reconcile counts and score resolution.
"""

from hub.demo.config import CLEAN, DirtRates, Prevalence
from hub.demo.generate import DemoManifest, connections, generate_district, load_manifest, write_connections_file
from hub.demo.property_api import create_property_app, running_property_api, serve_property_api
from hub.demo.session import demo_world
from hub.demo.world import World, build_world

__all__ = [
    "CLEAN",
    "DemoManifest",
    "DirtRates",
    "Prevalence",
    "World",
    "build_world",
    "connections",
    "create_property_app",
    "demo_world",
    "generate_district",
    "load_manifest",
    "running_property_api",
    "serve_property_api",
    "write_connections_file",
]
