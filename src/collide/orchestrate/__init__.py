"""The Prefect adapter: the nightly deployment, logs sent to Prefect, run summaries, notifications.
No click here: `collide schedule` lives in collide.cli and calls in."""
