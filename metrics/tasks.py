"""Celery entry point of the sampling pass (beat: `sample-databases`)."""
from celery import shared_task

from .sampler import sample_everything


@shared_task(name="metrics.tasks.sample_databases", ignore_result=True)
def sample_databases() -> dict:
    return sample_everything()
