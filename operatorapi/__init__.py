"""The Redis Enterprise operator's API (REC and REDB fields) as data, and what is generated from it.

This package is the bottom layer: it imports nothing from the Django apps, so the validators, the
REST API schema and the CRDs can all be derived from the one definition of every operator field.
"""
