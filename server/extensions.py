"""Flask extensions, created unbound and bound to an app in ``create_app``."""

from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from server.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
login = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
babel = Babel()
# Sign-in attempts per account and per address (server/auth/limits.py binds it, with
# Redis storage when LOBBY_MESSAGE_QUEUE is set so every process counts together).
limiter = Limiter(key_func=get_remote_address)
