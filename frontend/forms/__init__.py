"""Dashboard forms: they turn fields into a spec and hand it to the write-path services.

They never validate a spec themselves: the services' `SpecError.errors` are attached to the fields.
"""
