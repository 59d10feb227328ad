"""Environments: small, seeded MDPs with Gymnasium's reset/step conventions (no Gymnasium needed)."""
