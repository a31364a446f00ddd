"""Flask extensions, created unbound and bound to an app in ``create_app``."""

from flask_babel import Babel
from flask_htmx import HTMX
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
