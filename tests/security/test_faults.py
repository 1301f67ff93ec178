"""DynamoDB throttling, S3, SES and SQS errors injected at every AWS call of each use case.

For each use case, call number k (k = 0, 1, 2, ...) of one request fails as AWS fails when it throttles (``faults.py``);
the sweep ends when a request makes fewer calls than k (the clean run, which must succeed). After each injected
failure the portal must either
- answer 503 `service_unavailable` with a `Retry-After` (an SQS-triggered job: raise, so that SQS redelivers) and leave
  the data exactly as before, or
- have completed the work so that the same request sent again succeeds and reaches the same end state.
Anything else is reported with the call that failed: an answer other than 503 (a 409 or a 500 for a throttled call),
or a partial state (work committed, answer 503, and a retry that cannot finish it: orphaned files, a job never
queued, a mail never sent).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from tests.helpers import auth, link_token, outbox_messages, post_file, post_json, upload_photo
from tests.security.conftest import record_figures
from tests.security.faults import inject
from tests.security.world import difference, snapshot
from tests.unit import photo_corpus as corpus

GOOD_SIZE = (700, 900)
CROP = {"x": 0, "y": 0, "width": 700, "height": 900}
UNREGISTERED = ["217500016", "211300553", "216901231", "213105554", "215903501", "213801855", "216704825"]
SWEEPS: dict = {}


# --- preparing objects ----------------------------------------------------------------------------------------------

def clear_limit_counters():
    from chalicelib.store.tables import Counter

    with Counter.batch_write() as batch:
        for counter in Counter.scan():
            if not counter.key.startswith("card-number#"):
                batch.delete(counter)


def fresh_official(world, tenant, photo: bool = False, functions: int = 1) -> str:
    photo_queue_messages()  # jobs left by an earlier case (e.g. for an official deleted since) are not ours
    entries = world.client.http.get("/directory", headers=auth(tenant.token)).json_body["items"]
    entry = next(e for e in entries if not e["registered"] and len(e["eligible_functions"]) >= functions)
    created = post_json(world.client, "/officials", {"directory_id": entry["id"],
                                                     "function": entry["eligible_functions"][0]["code"]}, tenant.token)
    assert created.status_code == 201, created.json_body
    official_id = created.json_body["id"]
    if photo:
        ready = upload_photo(world.client, tenant.token, official_id, corpus.portrait_jpeg(GOOD_SIZE), CROP)
        assert ready["photo"]["status"] == "ready", ready
    return official_id


def release(world, tenant, official_id: str, order_id: str | None = None, keep_official: bool = False):
    """Free the directory person again (cancel the draft or pending order, delete the official)."""
    if order_id:
        order = world.client.http.get(f"/orders/{order_id}", headers=auth(tenant.token)).json_body
        if order.get("status") in ("brouillon", "en_preparation"):
            post_json(world.client, f"/orders/{order_id}/cancel", {}, tenant.token)
        elif order.get("status") in ("en_production", "en_livraison"):
            post_json(world.client, f"/admin/orders/{order_id}/transitions", {"to": "rejetee", "reason": "essai"},
                      world.tokens["manufacturer"])
        elif order.get("status") == "livree":
            post_json(world.client, f"/admin/orders/{order_id}/transitions", {"to": "remise"},
                      world.tokens[f"prefecture_{tenant.department_code}"])
    if not keep_official:
        world.client.http.delete(f"/officials/{official_id}", headers=auth(tenant.token))


def order_in(world, tenant, status: str, official_id: str | None = None) -> tuple[str, str]:
    official_id = official_id or fresh_official(world, tenant, photo=True)
    # The official may be reused after a hand-over: the new card replaces the one handed over (to be returned).
    created = post_json(world.client, "/orders", {"cards": [{"official_id": official_id, "reason": "deterioration"}]},
                        tenant.token)
    assert created.status_code == 201, created.json_body
    order = created.json_body["id"]
    steps = {"en_preparation": [], "en_production": ["en_production"],
             "livree": ["en_production", "en_livraison", "livree"]}
    if status != "brouillon":
        assert post_json(world.client, f"/orders/{order}/submit", {"preview_acknowledged": True},
                         tenant.token).status_code == 200
        for to in steps[status]:
            token = world.tokens["manufacturer"] if to != "livree" else \
                world.tokens[f"prefecture_{tenant.department_code}"]
            assert post_json(world.client, f"/admin/orders/{order}/transitions", {"to": to}, token).status_code == 200
    return official_id, order


class OrderCase:
    """Order cases run on tenant B (one agent: one notification mail per move) and reuse one official with a ready
    photo: ending an order (cancelled, rejected, handed over) frees it for the next one."""

    status = "brouillon"

    def prepare(self, world):
        official_id = getattr(self, "_official", None)
        official_id, order = order_in(world, world.B, self.status, official_id)
        self._official = official_id
        photo_queue_messages()
        return {"official": official_id, "order": order}

    def cleanup(self, world, ctx):
        release(world, world.B, ctx["official"], ctx["order"], keep_official=True)

    def finish(self, world):
        if getattr(self, "_official", None):
            release(world, world.B, self._official)
            self._official = None


def photo_queue_messages() -> list[str]:
    from chalicelib.store.queues import PHOTOS_QUEUE
    from tests.helpers import queued

    return queued(PHOTOS_QUEUE)


def run_photo_jobs(world, bodies: list[str]) -> None:
    for body in bodies:
        event = world.client.events.generate_sqs_event([body], queue_name="photos")
        world.client.lambda_.invoke("process_photo_event", event)


def s3_keys(prefix: str) -> list[str]:
    from chalicelib import aws
    from chalicelib.settings import get_settings

    listed = aws.client("s3").list_objects_v2(Bucket=get_settings().data_bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def official(tenant, official_id):
    from chalicelib.store.tables import Official

    return Official.get(tenant.siren, official_id, consistent_read=True)


# --- use cases --------------------------------------------------------------------------------------------------

@dataclass
class Case:
    """prepare(world) -> ctx; act(world, ctx) -> response; converged(world, ctx) -> bool; cleanup(world, ctx)."""
    name: str
    expected: int

    def prepare(self, world) -> dict:
        return {}

    def act(self, world, ctx):
        raise NotImplementedError

    def converged(self, world, ctx) -> bool:
        return True

    def cleanup(self, world, ctx) -> None:
        pass

    handler = False


class Registration(Case):
    def prepare(self, world):
        from chalicelib.services.accounts import issue_activation_code

        siren = UNREGISTERED.pop(0)
        return {"siren": siren, "email": f"agent-{siren}@mairie.example.fr",
                "code": issue_activation_code(siren)["activation_code"]}

    def act(self, world, ctx):
        return post_json(world.client, "/registrations", {"siren": ctx["siren"], "activation_code": ctx["code"],
                                                          "last_name": "Agent", "first_name": "Alix",
                                                          "email": ctx["email"]})

    def converged(self, world, ctx):
        return bool(outbox_messages(world.outbox, ctx["email"]))


class SetPassword(Case):
    def prepare(self, world):
        email = f"agent-{uuid.uuid4().hex[:8]}@mairie-bourg.securite.example.fr"
        assert post_json(world.client, "/agents", {"email": email, "last_name": "Nouvel", "first_name": "Agent"},
                         world.A.token).status_code == 201
        return {"email": email, "token": link_token(outbox_messages(world.outbox, email)[-1])}

    def act(self, world, ctx):
        return post_json(world.client, "/password", {"token": ctx["token"],
                                                     "password": "trois poireaux et un navet bleu"})

    def converged(self, world, ctx):
        from chalicelib.store.tables import Account, Token

        account = Account.get(ctx["email"])
        left = [t.kind for t in Token.scan() if t.email == ctx["email"]]  # the link is spent, the sessions revoked
        return account.password_hash is not None and left == ["revocation"]


class LogIn(Case):
    def act(self, world, ctx):
        return post_json(world.client, "/sessions", {"email": world.B.agent_email,
                                                     "password": world.B.agent_password})


class InviteAgent(Case):
    def prepare(self, world):
        return {"email": f"invite-{uuid.uuid4().hex[:8]}@mairie-bourg.securite.example.fr"}

    def act(self, world, ctx):
        return post_json(world.client, "/agents", {"email": ctx["email"], "last_name": "Invité",
                                                   "first_name": "Agent"}, world.A.token)

    def converged(self, world, ctx):
        return bool(outbox_messages(world.outbox, ctx["email"]))


class PasswordReset(Case):
    def prepare(self, world):
        return {"count": len(outbox_messages(world.outbox, world.B.agent_email))}

    def act(self, world, ctx):
        return post_json(world.client, "/password-resets", {"email": world.B.agent_email})

    def converged(self, world, ctx):
        from tests.helpers import deliver_account_mails

        deliver_account_mails(world.client)  # the link leaves from the mails function
        return len(outbox_messages(world.outbox, world.B.agent_email)) > ctx["count"]


class RegisterOfficial(Case):
    def prepare(self, world):
        entries = world.client.http.get("/directory", headers=auth(world.A.token)).json_body["items"]
        entry = next(e for e in entries if not e["registered"] and e["eligible_functions"])
        return {"entry": entry}

    def act(self, world, ctx):
        return post_json(world.client, "/officials", {"directory_id": ctx["entry"]["id"],
                                                      "function": ctx["entry"]["eligible_functions"][0]["code"]},
                         world.A.token)

    def converged(self, world, ctx):
        listed = world.client.http.get("/officials", headers=auth(world.A.token)).json_body["items"]
        ctx["id"] = next((o["id"] for o in listed if o["directory_id"] == ctx["entry"]["id"]), None)
        return ctx["id"] is not None

    def cleanup(self, world, ctx):
        if ctx.get("id"):
            release(world, world.A, ctx["id"])


class StartPhotoUpload(Case):
    def prepare(self, world):
        return {"id": fresh_official(world, world.A)}

    def act(self, world, ctx):
        return post_json(world.client, f"/officials/{ctx['id']}/photo-uploads", {"crop": CROP}, world.A.token)

    def cleanup(self, world, ctx):
        release(world, world.A, ctx["id"])


class PhotoJob(Case):
    """The image function: an S3 event for a new photo. Raising makes SQS deliver the message again."""
    handler = True

    def prepare(self, world):
        ctx = {"id": fresh_official(world, world.A)}
        started = post_json(world.client, f"/officials/{ctx['id']}/photo-uploads", {"crop": CROP},
                            world.A.token).json_body
        post_file(started, corpus.small_jpeg(GOOD_SIZE), "photo.jpg")
        bodies = photo_queue_messages()
        assert len(bodies) == 1
        return {"id": ctx["id"], "body": bodies[0], "attempt": started["upload_id"], "key": started["fields"]["key"]}

    def act(self, world, ctx):
        run_photo_jobs(world, [ctx["body"]])

    def converged(self, world, ctx):
        kept = official(world.A, ctx["id"])
        stored = s3_keys(f"officials/{world.A.siren}/{ctx['id']}/")
        expected = {f"officials/{world.A.siren}/{ctx['id']}/{ctx['attempt']}-{kind}.jpg"
                    for kind in ("photo", "preview", "original")}
        from chalicelib.store.tables import PhotoUpload

        return (kept.photo_status == "ready" and kept.photo_id == ctx["attempt"] and set(stored) == expected
                and not s3_keys(ctx["key"]) and PhotoUpload.count(ctx["key"]) == 0)

    def cleanup(self, world, ctx):
        release(world, world.A, ctx["id"])


class CreateOrder(OrderCase, Case):
    def prepare(self, world):
        official_id = getattr(self, "_official", None) or fresh_official(world, world.B, photo=True)
        self._official = official_id
        return {"official": official_id, "order": None}

    def act(self, world, ctx):
        response = post_json(world.client, "/orders", {"official_ids": [ctx["official"]]}, world.B.token)
        if response.status_code == 201:
            ctx["order"] = response.json_body["id"]
        return response

    def converged(self, world, ctx):
        return ctx["order"] is not None and official(world.B, ctx["official"]).active_order_id == ctx["order"]


class SubmitOrder(OrderCase, Case):
    status = "brouillon"

    def act(self, world, ctx):
        return post_json(world.client, f"/orders/{ctx['order']}/submit", {"preview_acknowledged": True},
                         world.B.token)

    def converged(self, world, ctx):
        order = world.client.http.get(f"/orders/{ctx['order']}", headers=auth(world.B.token)).json_body
        return order["status"] == "en_preparation"


class StartProduction(OrderCase, Case):
    """The card maker starts production: card numbers, and a job to draw the numbered cards."""
    status = "en_preparation"

    def act(self, world, ctx):
        return post_json(world.client, f"/admin/orders/{ctx['order']}/transitions", {"to": "en_production"},
                         world.tokens["manufacturer"])

    def converged(self, world, ctx):
        from datetime import timedelta
        from unittest import mock

        from chalicelib import clock

        order_id = ctx["order"].split("-", 1)[1]
        if any(json.loads(b).get("order_id") == order_id for b in photo_queue_messages()):
            return True
        # The drawing request is best effort after the move is recorded: the card maker's view of the order asks
        # again once cards have stayed undrawn for a while.
        later = clock.now() + timedelta(minutes=3)
        with mock.patch.object(clock, "now", lambda: later):
            world.client.http.get(f"/admin/orders/{ctx['order']}", headers=auth(world.tokens["manufacturer"]))
        return any(json.loads(b).get("order_id") == order_id for b in photo_queue_messages())


class HandOver(OrderCase, Case):
    """The préfecture hands the card over: the order ends and the official is released, in one transaction."""
    status = "livree"

    def act(self, world, ctx):
        return post_json(world.client, f"/admin/orders/{ctx['order']}/transitions", {"to": "remise"},
                         world.tokens["prefecture_74"])

    def converged(self, world, ctx):
        kept = official(world.B, ctx["official"])
        return kept.active_order_id is None and kept.delivered_order_id == ctx["order"]


class HandOverOneCard(OrderCase, Case):
    """The préfecture hands one card over to a representative of the town hall: the card, its official and its order
    in one transaction (services/cards.py)."""
    status = "livree"

    def prepare(self, world):
        ctx = super().prepare(world)
        order = world.client.http.get(f"/admin/orders/{ctx['order']}", headers=auth(world.tokens["prefecture_74"]))
        ctx["number"] = order.json_body["cards"][0]["card_number"]
        return ctx

    def act(self, world, ctx):
        return post_json(world.client, f"/admin/cards/{ctx['number']}/hand-over",
                         {"mode": "representant", "representative": {"last_name": "Favre", "first_name": "Léon",
                                                                     "quality": "secrétaire de mairie"}},
                         world.tokens["prefecture_74"])

    def converged(self, world, ctx):
        kept = official(world.B, ctx["official"])
        return kept.active_order_id is None and kept.held_card_number == ctx["number"]


class ChangeFunction(Case):
    def prepare(self, world):
        official_id = fresh_official(world, world.B, photo=True, functions=2)
        current = official(world.B, official_id)
        target = next(f for f in current.eligible_functions if f != current.function)
        photo_queue_messages()
        return {"id": official_id, "to": target}

    def act(self, world, ctx):
        return world.client.http.patch(f"/officials/{ctx['id']}", headers=auth(world.B.token),
                                       body=json.dumps({"function": ctx["to"]}))

    def converged(self, world, ctx):
        run_photo_jobs(world, photo_queue_messages())
        kept = official(world.B, ctx["id"])
        return kept.function == ctx["to"] and kept.preview_status == "ready"

    def cleanup(self, world, ctx):
        release(world, world.B, ctx["id"])


class Recrop(Case):
    def prepare(self, world):
        official_id = fresh_official(world, world.A, photo=True)
        photo_queue_messages()
        return {"id": official_id}

    def act(self, world, ctx):
        return world.client.http.put(f"/officials/{ctx['id']}/photo/crop", headers=auth(world.A.token),
                                     body=json.dumps({"crop": {"x": 10, "y": 10, "width": 680, "height": 874}}))

    def converged(self, world, ctx):
        run_photo_jobs(world, photo_queue_messages())
        kept = official(world.A, ctx["id"])
        return kept.photo_status == "ready" and kept.crop.as_dict()["x"] == 10

    def cleanup(self, world, ctx):
        release(world, world.A, ctx["id"])


class DeleteOfficial(Case):
    """Deleting an official must delete its photos (personal data), originals and previews included."""

    def prepare(self, world):
        official_id = fresh_official(world, world.A, photo=True)
        return {"id": official_id}

    def act(self, world, ctx):
        return world.client.http.delete(f"/officials/{ctx['id']}", headers=auth(world.A.token))

    def converged(self, world, ctx):
        return not s3_keys(f"officials/{world.A.siren}/{ctx['id']}/") and \
            not s3_keys(f"incoming/photos/{world.A.siren}/{ctx['id']}/")


class LogOut(Case):
    def prepare(self, world):
        from chalicelib.services.sessions import open_session
        from chalicelib.store.tables import Account

        return {"token": open_session(Account.get(world.A.agent_email))["token"]}

    def act(self, world, ctx):
        return world.client.http.delete("/sessions/current", headers=auth(ctx["token"]))

    def converged(self, world, ctx):
        return world.client.http.get("/me", headers=auth(ctx["token"])).status_code == 401


CASES = [Registration("POST /registrations", 201), SetPassword("POST /password", 204),
         LogIn("POST /sessions", 201), LogOut("DELETE /sessions/current", 204),
         PasswordReset("POST /password-resets", 202), InviteAgent("POST /agents", 201),
         RegisterOfficial("POST /officials", 201), StartPhotoUpload("POST /officials/{id}/photo-uploads", 201),
         PhotoJob("photo job (SQS handler)", 0), Recrop("PUT /officials/{id}/photo/crop", 202),
         ChangeFunction("PATCH /officials/{id}", 200), DeleteOfficial("DELETE /officials/{id}", 204),
         CreateOrder("POST /orders", 201), SubmitOrder("POST /orders/{id}/submit", 200),
         StartProduction("POST /admin/orders/{id}/transitions en_production", 200),
         HandOver("POST /admin/orders/{id}/transitions remise", 200),
         HandOverOneCard("POST /admin/cards/{number}/hand-over", 200)]


def attempt(case, world, ctx, fail_at):
    with inject(fail_at) as faults:
        try:
            return case.act(world, ctx), None, faults
        except Exception as error:  # noqa: BLE001 - a handler's exception is its answer
            return None, error, faults


def succeeded(case, response, error) -> bool:
    if case.handler:
        return error is None
    return response is not None and response.status_code == case.expected


def failed_cleanly(case, response, error) -> bool:
    if case.handler:
        return error is not None
    return (response is not None and response.status_code == 503 and "Retry-After" in response.headers
            and response.json_body.get("code") == "service_unavailable")


def describe(response, error) -> str:
    if error is not None:
        return f"raised {type(error).__name__}"
    if response is None:
        return "returned"
    body = response.json_body or {}
    return f"{response.status_code} {body.get('code', '')}".strip()


def sweep(world, case) -> dict:
    ctx = case.prepare(world)
    points, problems, absorbed = [], [], []
    for fail_at in range(80):
        clear_limit_counters()
        before = snapshot()
        response, error, faults = attempt(case, world, ctx, fail_at)
        if faults.injected is None:  # fewer calls than fail_at: the clean run
            clean = succeeded(case, response, error) and case.converged(world, ctx)
            if not clean:
                problems.append(f"clean run: {describe(response, error)}")
            break
        service, operation, code = faults.injected
        where = f"call {fail_at} {service}.{operation} ({code})"
        point = {"at": where, "answer": describe(response, error)}
        changed = difference(before, snapshot())
        if succeeded(case, response, error) and case.converged(world, ctx):
            point["outcome"] = "absorbed"  # the work was done despite the failure (e.g. a mail lost, logged)
            absorbed.append(where)
            case.cleanup(world, ctx)
            ctx = case.prepare(world)
            points.append(point)
            continue
        point["outcome"] = "503" if failed_cleanly(case, response, error) else "wrong answer"
        if not failed_cleanly(case, response, error):
            problems.append(f"{where}: answered {describe(response, error)} instead of 503 + Retry-After")
        if changed:
            retry, retry_error, _ = attempt(case, world, ctx, None)
            point["retry"] = describe(retry, retry_error)
            if not (succeeded(case, retry, retry_error) and case.converged(world, ctx)):
                problems.append(f"{where}: partial state (changed {sorted(changed)}), the retry got "
                                f"{describe(retry, retry_error)} and the work is not complete")
            case.cleanup(world, ctx)
            ctx = case.prepare(world)
        points.append(point)
    case.cleanup(world, ctx)
    if hasattr(case, "finish"):
        case.finish(world)
    result = {"injection_points": len(points), "problems": problems, "points": points, "absorbed": absorbed}
    SWEEPS[case.name] = result
    record_figures("faults", SWEEPS)
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_transient_aws_failure_at_any_call_fails_cleanly_or_completes(world, case):
    result = sweep(world, case)
    assert result["injection_points"] > 0
    assert not result["problems"], "\n".join(result["problems"])


def test_the_photo_job_raises_so_that_sqs_redelivers_and_the_upload_stays_pending(world):
    """A failed photo job leaves its upload pending, and the redelivered message finishes the work."""
    from chalicelib.store.tables import PhotoUpload

    case = PhotoJob("redelivery", 0)
    ctx = case.prepare(world)
    response, error, faults = attempt(case, world, ctx, 3)  # after marking the photo "processing"
    assert error is not None, "the handler swallowed the failure: SQS would delete the message"
    assert PhotoUpload.count(ctx["key"]) == 1 and s3_keys(ctx["key"])
    assert official(world.A, ctx["id"]).photo_status == "processing"
    case.act(world, ctx)  # SQS delivers the message again
    assert case.converged(world, ctx)
