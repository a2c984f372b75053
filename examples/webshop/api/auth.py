"""Login and logout. Passwords are Argon2id hashes; failed logins are rate limited per account."""
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from flask import Blueprint, abort, jsonify, request, session

from .db import execute, query_one
from .ratelimit import too_many_failures, record_failure

# @asset Shop.Api.Auth (#auth) -- "login, logout and session creation"
# @actor Customer (#customer) -- "anyone with a self-registered account"
# @actor Support Agent (#support-agent) -- "staff using the back office, SSO only"
# @entitles #support-agent to refund on Shop.Api.Orders
# @handles pii on Shop.Api.Auth
# @owns team-identity for Shop.Api.Auth

bp = Blueprint("auth", __name__)
_hasher = PasswordHasher()


@bp.post("/login")
def login():
    # @exposes Shop.Api.Auth to #credential-stuffing [P1] attack:T1110.004
    # @mitigates Shop.Api.Auth against #credential-stuffing using #login-rate-limit
    # @exposes Shop.Api.Auth to #user-enumeration [P3] -- "'unknown email' and 'wrong password' differ"
    # @accepts #user-enumeration on Shop.Api.Auth -- "product decision: signup already reveals registered emails (SEC-142)"
    body = request.get_json(force=True)
    email = str(body.get("email", "")).strip().lower()
    if too_many_failures(email):
        abort(429)
    user = query_one("SELECT id, password_hash FROM customers WHERE email = %s", (email,))
    if user is None:
        return jsonify(error="unknown email"), 401
    # @mitigates Shop.Api.Auth against #password-cracking using #argon2id
    try:
        _hasher.verify(user["password_hash"], body.get("password", ""))
    except VerifyMismatchError:
        record_failure(email)
        return jsonify(error="wrong password"), 401
    if _hasher.check_needs_rehash(user["password_hash"]):
        execute("UPDATE customers SET password_hash = %s WHERE id = %s",
                (_hasher.hash(body["password"]), user["id"]))
    session.clear()
    session["customer_id"] = user["id"]
    session["csrf_token"] = secrets.token_urlsafe(32)
    return jsonify(ok=True)


@bp.post("/logout")
def logout():
    session.clear()
    return jsonify(ok=True)
