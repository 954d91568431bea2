"""Administrators' pages for people: users (organizers and admins), invitations, departments."""

from flask import Blueprint

bp = Blueprint("users_admin", __name__)
