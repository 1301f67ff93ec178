"""Signing in beyond the password: « S'identifier avec ProConnect », the second factor, « Mes sessions »."""
from chalice import Blueprint

from ..services import proconnect, second_factor, session_list
from . import schemas as s
from .routing import ALL_ROLES, MANUFACTURER, endpoint

signin = Blueprint(__name__)

# --- ProConnect ---------------------------------------------------------------------------------------------------


# POST: it keeps a new record (state, nonce, PKCE verifier) server-side.
@endpoint(signin, "/proconnect/authorize", "POST", status=201, summary="Commencer une connexion avec ProConnect",
          request=s.obj({}), response=s.PROCONNECT_AUTHORIZATION, errors={502: ["proconnect_unavailable"],
                                                       503: ["proconnect_unavailable"]})
def proconnect_authorize(call):
    return proconnect.start()


@endpoint(signin, "/proconnect/sessions", "POST", status=201,
          summary="Terminer une connexion avec ProConnect (le code et le state reçus)",
          request=s.PROCONNECT_CALLBACK, response=s.SESSION,
          errors={400: ["invalid_state", "invalid_code", "invalid_request"],
                  401: ["invalid_id_token", "invalid_nonce", "otp_required"],
                  403: ["proconnect_incomplete_identity", "commune_not_registered", "organisation_not_registered",
                        "not_an_agent", "other_commune", "other_identity"],
                  502: ["proconnect_unavailable"], 503: ["proconnect_unavailable"]})
def proconnect_sign_in(call):
    return proconnect.finish(call.body["code"], call.body["state"], call.source_ip, call.headers.get("user-agent"))


@endpoint(signin, "/proconnect/sessions/second-factor", "POST", status=201,
          summary="Terminer une connexion avec ProConnect par le code de double authentification (ticket reçu avec "
                  "otp_required)",
          request=s.PROCONNECT_TICKET, response=s.SESSION,
          errors={400: ["invalid_state", "invalid_request"], 401: ["invalid_otp"], 429: ["too_many_attempts"]})
def proconnect_second_factor(call):
    return proconnect.finish_with_code(call.body["ticket"], call.body["otp"], call.source_ip,
                                       call.headers.get("user-agent"))


@endpoint(signin, "/proconnect/logout", "POST", roles=ALL_ROLES, during_enrolment=True, request=s.obj({}),
          summary="Se déconnecter, et de ProConnect si la session en vient", response=s.PROCONNECT_LOGOUT)
def proconnect_log_out(call):
    return proconnect.log_out(call.principal)


# --- the second factor --------------------------------------------------------------------------------------------


@endpoint(signin, "/me/second-factor", "GET", roles=ALL_ROLES, during_enrolment=True,
          summary="État de ma double authentification", response=s.SECOND_FACTOR_STATUS)
def second_factor_status(call):
    return second_factor.status(call.principal)


@endpoint(signin, "/me/second-factor", "POST", status=201, roles=ALL_ROLES, during_enrolment=True, request=s.obj({}),
          summary="Commencer l'activation de la double authentification (secret et QR code)",
          response=s.SECOND_FACTOR_ENROLMENT, errors={409: ["second_factor_already_enabled"]})
def start_second_factor(call):
    return second_factor.start_enrolment(call.principal)


@endpoint(signin, "/me/second-factor/confirm", "POST", roles=ALL_ROLES, during_enrolment=True,
          summary="Activer la double authentification avec un code (les codes de secours sont donnés une fois)",
          request=s.SECOND_FACTOR_CONFIRM, response=s.SECOND_FACTOR_ENABLED,
          errors={400: ["invalid_otp", "invalid_request"],
                  409: ["second_factor_already_enabled", "enrolment_not_started"]})
def confirm_second_factor(call):
    return second_factor.confirm_enrolment(call.principal, call.body["otp"])


# --- « Mes sessions » ---------------------------------------------------------------------------------------------


@endpoint(signin, "/me/sessions", "GET", roles=ALL_ROLES, summary="Mes sessions ouvertes",
          response=s.OPEN_SESSIONS)
def my_sessions(call):
    return session_list.list_sessions(call.principal)


@endpoint(signin, "/me/sessions/{session_id}", "DELETE", status=204, roles=ALL_ROLES,
          summary="Fermer une de mes sessions", errors={404: ["session_not_found"]})
def end_my_session(call, session_id):
    session_list.end_session(call.principal, session_id)


@endpoint(signin, "/admin/session-revocations", "POST", status=204, roles={MANUFACTURER},
          summary="Fermer toutes les sessions d'un opérateur (fabricant ou préfecture)",
          request=s.SESSION_REVOCATION, errors={404: ["unknown_operator"]})
def end_operator_sessions(call):
    session_list.end_operator_sessions(call.principal, call.body["email"])
