"""« Enregistrer les élus de ma commune »: the directory, the officials, their photos."""
from chalice import Blueprint

from ..services import dashboards, directory, directory_news, officials as service
from ..wiring import collaborators
from . import schemas as s, views
from .routing import COMMUNE, endpoint

officials = Blueprint(__name__)


@endpoint(officials, "/directory", "GET", roles={COMMUNE}, summary="Rechercher un élu de ma commune dans le répertoire",
          scope="officials:read",
          response=s.page_of(s.DIRECTORY_ENTRY), query={"q": {"type": "string", "maxLength": 100}})
def search_directory(call):
    return directory.search_directory(call.principal, (call.query.get("q") or "")[:100])


@endpoint(officials, "/dashboard", "GET", roles={COMMUNE},
          scope="orders:read",
          summary="L'avancement de ma commune : élus pouvant recevoir une carte, enregistrés, cartes demandées, "
                  "cartes remises", response=s.COMMUNE_PROGRESS)
def commune_dashboard(call):
    return dashboards.commune_progress(collaborators(), call.principal)


@endpoint(officials, "/directory-notices", "GET", roles={COMMUNE},
          scope="officials:read",
          summary="Ce que les dernières mises à jour du répertoire ont changé pour ma commune",
          response=s.page_of(s.DIRECTORY_NOTICE))
def list_directory_notices(call):
    return views.page(directory_news.list_notices(call.principal), None, views.directory_notice)


@endpoint(officials, "/directory-notices/{notice_id}/read", "POST", roles={COMMUNE}, status=204,
          summary="Marquer comme lue une information sur le répertoire", request=s.obj({}),
          errors={404: ["not_found"], 409: ["notices_changed"]})
def mark_directory_notice_read(call, notice_id):
    directory_news.mark_read(call.principal, notice_id)


@endpoint(officials, "/officials", "POST", roles={COMMUNE}, status=201, summary="Enregistrer un élu",
          scope="officials:write",
          request=s.OFFICIAL_NEW, response=s.OFFICIAL,
          errors={404: ["not_found"], 409: ["already_registered"], 422: ["function_not_eligible"]})
def register_official(call):
    person = directory.find_person(call.principal, call.body["directory_id"])
    return views.official(service.register_official(collaborators(), call.principal, person, call.body["function"]))


@endpoint(officials, "/officials", "GET", roles={COMMUNE}, summary="Les élus enregistrés de ma commune",
          scope="officials:read",
          response=s.page_of(s.OFFICIAL),
          description="Tous les élus que la commune a enregistrés, en une page : fonction, photo (et ses "
                      "vérifications), aperçu de la carte, carte détenue et demande en cours.")
def list_officials(call):
    return views.page(service.list_officials(collaborators(), call.principal), None, views.official)


@endpoint(officials, "/officials/{official_id}", "GET", roles={COMMUNE}, summary="Un élu enregistré",
          scope="officials:read",
          response=s.OFFICIAL, errors={404: ["not_found"]})
def get_official(call, official_id):
    return views.official(service.get_official(collaborators(), call.principal, official_id))


@endpoint(officials, "/officials/{official_id}/export", "GET", roles={COMMUNE},
          scope="officials:read",
          summary="Télécharger toutes les données d'un élu (JSON)", response=s.OFFICIAL_EXPORT,
          errors={404: ["not_found"]})
def export_official(call, official_id):
    c = collaborators()
    return views.official_export(*service.export(c, call.principal, official_id), c.now())


@endpoint(officials, "/officials/{official_id}", "PATCH", roles={COMMUNE}, summary="Changer la fonction d'un élu",
          scope="officials:write",
          request=s.OFFICIAL_CHANGE, response=s.OFFICIAL,
          errors={404: ["not_found"], 409: ["card_in_progress"], 422: ["function_not_eligible"]})
def change_function(call, official_id):
    return views.official(service.change_function(collaborators(), call.principal, official_id,
                                                  call.body["function"]))


@endpoint(officials, "/officials/{official_id}", "DELETE", roles={COMMUNE}, status=204,
          scope="officials:write",
          summary="Retirer un élu (ses photos sont supprimées)", errors={404: ["not_found"], 409: ["card_in_progress"]})
def delete_official(call, official_id):
    service.delete_official(collaborators(), call.principal, official_id)


@endpoint(officials, "/officials/{official_id}/photo-uploads", "POST", roles={COMMUNE}, status=201,
          scope="officials:write",
          summary="Envoyer la photo d'un élu (envoi direct vers le stockage)", request=s.PHOTO_UPLOAD_NEW,
          response=s.PHOTO_UPLOAD, errors={404: ["not_found"], 400: ["invalid_crop"], 409: ["card_in_progress"],
                                           429: ["too_many_attempts"]})
def start_photo_upload(call, official_id):
    return service.start_photo_upload(collaborators(), call.principal, official_id, call.body.get("crop"))


@endpoint(officials, "/officials/{official_id}/photo/crop", "PUT", roles={COMMUNE}, status=202,
          scope="officials:write",
          summary="Recadrer la photo déjà envoyée", request=s.PHOTO_CROP, response=s.OFFICIAL,
          errors={404: ["not_found"], 409: ["no_original", "card_in_progress"], 400: ["invalid_crop"]})
def recrop_photo(call, official_id):
    return views.official(service.recrop(collaborators(), call.principal, official_id, call.body["crop"]))
