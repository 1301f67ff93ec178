"""The agents of a commune: several people may order for the same town hall."""
from chalice import Blueprint

from ..services import accounts
from . import schemas as s
from .routing import COMMUNE, endpoint

agents = Blueprint(__name__)


@endpoint(agents, "/agents", "GET", roles={COMMUNE}, summary="Les agents de ma commune", response=s.page_of(s.AGENT))
def list_agents(call):
    return accounts.list_agents(call.principal)


@endpoint(agents, "/agents", "POST", roles={COMMUNE}, status=201, summary="Ajouter un agent de ma commune",
          request=s.AGENT_NEW, response=s.AGENT,
          errors={400: ["invalid_email", "invalid_name"], 409: ["email_already_used"], 429: ["too_many_attempts"]})
def invite_agent(call):
    b = call.body
    return accounts.invite_agent(call.principal, b["email"], b["last_name"].strip(), b["first_name"].strip())


@endpoint(agents, "/agents/{agent_id}", "DELETE", roles={COMMUNE}, status=204, summary="Retirer un agent",
          errors={404: ["not_found"], 409: ["last_agent"]})
def remove_agent(call, agent_id):
    accounts.remove_agent(call.principal, agent_id)
