"""Scheduled work: the purge of the photos of closed orders (``services/retention.py``), every hour.

Locally, ``local/`` runs the same handler on a timer (``chalice local`` has no schedules).
"""
from chalice import Blueprint, Rate

from ..services import retention
from ..wiring import collaborators

schedule = Blueprint(__name__)


@schedule.schedule(Rate(1, unit=Rate.HOURS), description="Deletes the photos of orders closed 30 days ago")
def purge_personal_data(event):
    return retention.run(collaborators())
