"""The core views of the read model: one function per view, used by the CLI (`hub find`, `hub explain`), the API
and exports alike. Each takes a Reader (connection + pinned publication version + vault) and a Policy, filters
type and scope in its SQL, shows every value through `hub.protect.present`, and returns a schemas.views model
whose `disclosed` is what the audit log records. Each view also exists as steps (`…_steps`, hub.store.steps):
the same function yielding its queries, which the API runs on its asynchronous driver connections.
"""

from hub.views.entity import entity_view, entity_view_steps
from hub.views.lineage import lineage, lineage_steps
from hub.views.profiles import (
    house_profile,
    house_profile_steps,
    organization_profile,
    organization_profile_steps,
    person_profile,
    person_profile_steps,
)
from hub.views.reader import NothingPublished, QueryError, Reader, open_reader
from hub.views.search import list_entities, list_entities_steps, search, search_steps

__all__ = ["NothingPublished", "QueryError", "Reader", "entity_view", "entity_view_steps", "house_profile",
           "house_profile_steps", "lineage", "lineage_steps", "list_entities", "list_entities_steps", "open_reader",
           "organization_profile", "organization_profile_steps", "person_profile", "person_profile_steps", "search",
           "search_steps"]
