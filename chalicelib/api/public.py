"""Routes anyone may call, and the session routes: registration, passwords, log in and out, who am I."""
from chalice import Blueprint

from ..services import accounts, sessions
from . import schemas as s
from .routing import ALL_ROLES, endpoint

public = Blueprint(__name__)


@endpoint(public, "/health", "GET", summary="Le service répond", response=s.HEALTH, tag="Programmes",
          description="Pour la supervision : répond tant que le service tourne, sans lire de données.")
def health(call):
    return {"status": "ok"}


@endpoint(public, "/registrations", "POST", status=201, summary="Inscrire la commune au service",
          request=s.REGISTRATION, response=s.REGISTERED,
          errors={400: ["invalid_siren", "invalid_email", "invalid_name", "invalid_request"],
                  403: ["invalid_activation_code"], 409: ["already_registered", "email_already_used"], 429: ["too_many_attempts"]})
def register(call):
    b = call.body
    return accounts.register_commune(b["siren"], b["activation_code"], b["last_name"].strip(),
                                     b["first_name"].strip(), b["email"], call.source_ip)


@endpoint(public, "/password", "POST", status=204, summary="Choisir son mot de passe depuis le lien reçu",
          request=s.SET_PASSWORD, errors={400: ["invalid_token", "weak_password", "invalid_request"]})
def set_password(call):
    accounts.set_password(call.body["token"], call.body["password"])


@endpoint(public, "/password-resets", "POST", status=202, summary="Recevoir un lien pour changer de mot de passe",
          request=s.PASSWORD_RESET, response=s.MESSAGE, errors={429: ["too_many_attempts"]})
def request_password_reset(call):
    accounts.request_password_reset(call.body["email"], call.source_ip)
    return {"message": "Si un compte existe pour cette adresse, un e-mail avec un lien vient de lui être envoyé."}


@endpoint(public, "/sessions", "POST", status=201, summary="Se connecter", request=s.LOGIN, response=s.SESSION,
          errors={401: ["invalid_credentials", "otp_required", "invalid_otp"], 429: ["too_many_attempts"]})
def log_in(call):
    return sessions.log_in(call.body["email"], call.body["password"], call.source_ip, otp=call.body.get("otp"),
                           device=call.headers.get("user-agent"))


@endpoint(public, "/sessions/current", "DELETE", status=204, roles=ALL_ROLES, summary="Se déconnecter",
          during_enrolment=True)
def log_out(call):
    sessions.log_out(call.principal)


@endpoint(public, "/sessions", "DELETE", status=204, roles=ALL_ROLES,
          summary="Fermer toutes mes sessions (sur tous les appareils)")
def log_out_everywhere(call):
    sessions.log_out_everywhere(call.principal)


@endpoint(public, "/me", "GET", roles=ALL_ROLES, summary="Mon compte et ma commune", response=s.ME)
def me(call):
    return accounts.describe_me(call.principal)
