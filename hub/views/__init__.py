"""The core views of the read model: one function per view, used by the CLI (`hub find`, `hub explain`), the API
and exports alike. Each takes a Reader (connection + pinned publication version + vault) and a Policy, filters
type and scope in its SQL, shows every value through `hub.protect.present`, and returns a schemas.views model
whose `disclosed` is what the audit log records.
"""

from hub.views.entity import entity_view
from hub.views.lineage import lineage
from hub.views.profiles import house_profile, organization_profile, person_profile
from hub.views.reader import NothingPublished, QueryError, Reader, open_reader
from hub.views.search import list_entities, search

__all__ = ["NothingPublished", "QueryError", "Reader", "entity_view", "house_profile", "lineage", "list_entities",
           "open_reader", "organization_profile", "person_profile", "search"]
