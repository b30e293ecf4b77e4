"""Prefect tasks: one per file, thin wrappers over `lepton_flow`.

Each takes typed parameters and references and returns a reference; the
mechanics live in the library so that they are tested without Prefect.
"""
