"""The portal's Chalice app: a table of contents. The code lives in chalicelib/."""

from chalice import Chalice

from chalicelib.api.admin import admin
from chalicelib.api.agents import agents
from chalicelib.api.api_clients import clients
from chalicelib.api.cards import cards
from chalicelib.api.declarations import declarations
from chalicelib.api.exports import downloads
from chalicelib.api.middleware import http_middleware
from chalicelib.api.officials import officials
from chalicelib.api.orders import orders
from chalicelib.api.openapi import docs
from chalicelib.api.public import public
from chalicelib.events.exports import list_files
from chalicelib.events.mails import mails
from chalicelib.api.signin import signin
from chalicelib.events.notices import notices
from chalicelib.events.schedule import schedule
from chalicelib.events.stats import stats
from chalicelib.events.uploads import events
from chalicelib.events.webhooks import hooks
from chalicelib.api.webhooks import hooks_api
from chalicelib.logs import configure_logging

app = Chalice(app_name="carteselus")
configure_logging(app.log)

for blueprint in (public, signin, agents, clients, hooks_api, officials, declarations, orders, cards, admin, downloads,
                  docs, events, notices, schedule, mails, stats, hooks, list_files):
    app.register_blueprint(blueprint)
app.register_middleware(http_middleware, "http")
