"""The wait between « Envoyer la photo » and a ready photo, against the libvips pipeline alone on the same photo.

    python -m bench.upload [--rounds 21]      # prints one JSON object (what bench.run reads)

On the AWS emulation (moto, in-process) as ``bench.journey`` sets it up: the reference files imported, a commune
registered, one official. Each round, untimed: the agent starts a photo upload with its crop (``POST
/officials/{id}/photo-uploads``), the browser posts a 12 MP phone photo (``bench.photo``) to S3, and the S3
notification is taken from the photos queue. Two photos, in turn: a real portrait in the phone photo's crop (what
town halls upload: the assistant finds the face; this is the target's figure) and the drawn phone photo, in which
it finds no face (its turned passes run: reported beside). Timed: the image function's real handler, ``process_photo_event``
(``chalicelib/events/uploads.py``), invoked with that SQS event as Lambda would: the three DynamoDB calls, reading the
upload from S3 and keeping its original, the decode, the photo assistant (face search and checks), the ID photo, the
card preview, the writes to S3, until the official's photo is ``ready`` (checked after each round). The reference,
timed in the same rounds in turn (a new order each round): ``bench.photo.vips``, libvips' own pipeline on the same
photo and crop. ``upload_to_ready_vs_pipeline`` = median handler time / median libvips time.

The emulation's S3 and DynamoDB calls are in-process (no network), cheaper than AWS's round trips (about 5 to 20 ms
each: the handler makes 3 DynamoDB and about 7 S3 calls): the figure is the function's own work; the docs give the
expected wall time on AWS.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from .common import PROJECT_DIR, median


def _environment(tmp: str) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-3",
                      AWS_REGION="eu-west-3", SITE_URL="https://site.test", OUTBOX_DIR=str(Path(tmp) / "outbox"),
                      **{**config["environment_variables"], **config["stages"]["local"]["environment_variables"]})


def _setup(run) -> tuple[str, str]:
    """The reference files, a registered commune and one official: (the agent's token, the official's id)."""
    from tests.helpers import MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET, create_operator

    from .journey import AGENT_EMAIL, AGENT_PASSWORD, DEMO_SIREN, REFERENCE_DATA, directory_file

    create_operator("operateur@fabricant.example.fr", "Olivia", "Opératrice", "manufacturer", None,
                    password=MANUFACTURER_PASSWORD)
    operator = run.login("operateur@fabricant.example.fr", MANUFACTURER_PASSWORD, OPERATOR_TOTP_SECRET)
    for kind, name in (("communes", "communes.csv"), ("prefectures", "prefectures.csv")):
        run.import_file(operator, kind, (REFERENCE_DATA / name).read_bytes())
    run.import_file(operator, "rne_cm", directory_file())
    code = run.call("POST", "/admin/communes/{siren}/activation-code", f"/admin/communes/{DEMO_SIREN}/activation-code",
                    operator)["activation_code"]
    run.call("POST", "/registrations", body={"siren": DEMO_SIREN, "activation_code": code, "last_name": "Martin",
                                             "first_name": "Camille", "email": AGENT_EMAIL})
    run.password_from_mail(AGENT_EMAIL, AGENT_PASSWORD)
    agent = run.login(AGENT_EMAIL, AGENT_PASSWORD)
    entry = next(e for e in run.call("GET", "/directory", token=agent)["items"] if e["eligible_functions"])
    official = run.call("POST", "/officials", token=agent, body={
        "directory_id": entry["id"], "function": entry["eligible_functions"][0]["code"]})
    return agent, official["id"]


def measure(rounds: int = 21, warmup: int = 2, profile: bool = False) -> dict:
    from . import photo as bench_photo
    from .dynamodb import Recorder
    from .journey import Run

    # What town halls upload: a portrait the assistant finds (the user's wait, the target); and a photo in which it
    # finds no face (its turned passes run), for the record.
    photos = {"portrait": bench_photo.portrait_photo_bytes(), "no_face": bench_photo.photo_bytes()}
    crop = dict(bench_photo.CROP)
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        _environment(tmp)
        from moto import mock_aws

        from local.emulation import prepare_dynamodb

        prepare_dynamodb()
        with mock_aws():
            from chalice.test import Client

            from chalicelib import aws
            from chalicelib.aws import reset_settings_and_clients
            from chalicelib.settings import get_settings
            from chalicelib.store.queues import PHOTOS_QUEUE
            from local.resources import create_resources
            from tests.helpers import post_file

            reset_settings_and_clients()
            create_resources(get_settings())
            import app as app_module

            logging.disable(logging.INFO)
            recorder = Recorder()  # journey's Run records calls; nothing is installed, so nothing is counted here
            with Client(app_module.app, stage_name="local", project_dir=str(PROJECT_DIR)) as client:
                run = Run(recorder, client, get_settings())
                agent, official_id = _setup(run)
                sqs = aws.client("sqs")
                queue_url = sqs.get_queue_url(QueueName=PHOTOS_QUEUE)["QueueUrl"]
                sqs.purge_queue(QueueUrl=queue_url)  # S3's test event of the notification's creation

                def upload_event(data: bytes) -> dict:
                    """Untimed: the agent's upload, the browser's POST, the S3 notification as Lambda gets it."""
                    upload = run.call("POST", "/officials/{official_id}/photo-uploads",
                                      f"/officials/{official_id}/photo-uploads", agent, {"crop": crop})
                    post_file(upload, data, "photo.jpg")
                    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                                   WaitTimeSeconds=1).get("Messages", [])
                    assert len(messages) == 1, messages
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
                    return client.events.generate_sqs_event([messages[0]["Body"]], queue_name=PHOTOS_QUEUE), \
                        upload["upload_id"]

                def ready(attempt: str) -> dict:
                    seen = run.call("GET", "/officials/{official_id}", f"/officials/{official_id}", agent)
                    assert seen["photo"]["status"] == "ready", seen["photo"]
                    return seen["photo"]

                bench_photo._setup_vips()
                event, attempt = upload_event(photos["portrait"])
                first_started = time.perf_counter()
                client.lambda_.invoke("process_photo_event", event)
                first_ms = (time.perf_counter() - first_started) * 1000  # imports, libvips, dlib, fonts: cold
                ready(attempt)
                if profile:  # where a warm upload's time goes, on standard error
                    import cProfile
                    import pstats

                    for _ in range(2):
                        event, attempt = upload_event(photos["portrait"])
                        profiler = cProfile.Profile()
                        profiler.runcall(client.lambda_.invoke, "process_photo_event", event)
                    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
                results = {}
                for kind, data in photos.items():
                    times: dict[str, list[float]] = {"handler": [], "vips": []}
                    shuffle = random.Random(20261207).shuffle
                    order = list(times)
                    for index in range(warmup + rounds):
                        event, attempt = upload_event(data)
                        shuffle(order)
                        measured = {}
                        for name in order:
                            gc.collect()
                            gc.disable()
                            started = time.perf_counter()
                            if name == "handler":
                                client.lambda_.invoke("process_photo_event", event)
                            else:
                                bench_photo.vips(data)
                            measured[name] = time.perf_counter() - started
                            gc.enable()
                        photo_seen = ready(attempt)
                        if index >= warmup:
                            for name, seconds in measured.items():
                                times[name].append(seconds)
                    results[kind] = _figures(times, rounds, data, crop, photo_seen)
    return {"rounds": rounds, "first_upload_ms": round(first_ms, 1), **results["portrait"],
            "no_face": results["no_face"]}


def _figures(times: dict, rounds: int, data: bytes, crop: dict, photo_seen: dict) -> dict:
    from . import photo as bench_photo

    handler_ms, vips_ms = median(times["handler"]) * 1000, median(times["vips"]) * 1000
    checks = [c["code"] for c in (photo_seen.get("checks") or [])] if isinstance(photo_seen, dict) else []
    return {
        "time_ms": {"upload_to_ready": round(handler_ms, 1), "vips": round(vips_ms, 1),
                    "upload_to_ready_p90": round(sorted(times["handler"])[int(0.9 * (rounds - 1))] * 1000, 1)},
        "upload_to_ready_vs_pipeline": handler_ms / vips_ms,
        "photo": {"size": list(bench_photo.PHOTO_SIZE), "bytes": len(data), "crop": crop, "checks": checks},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--profile", action="store_true", help="profile a warm upload first (standard error)")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(10_000)
    print(json.dumps(measure(args.rounds, profile=args.profile)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
