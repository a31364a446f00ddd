"""The drinks menu over the API: ``GET /api/v1/drinks`` → ``[{"id", "name", "name_zh",
"active"}]`` by name, inactive drinks too (any staff token: hosts order tea from it;
the kiosk has no token and does not need it). Kept on the admin page and in
server/services/tasks.py; a fresh install's menu is seeded by a migration."""

from server.api import bp
from server.auth import api_roles
from server.services import tasks


def as_dict(drink) -> dict:
    return {"id": drink.id, "name": drink.name, "name_zh": drink.name_zh, "active": drink.active}


@bp.get("/drinks")
@api_roles("admin", "receptionist", "host")
def list_drinks():
    return [as_dict(d) for d in tasks.menu(active_only=False)]
