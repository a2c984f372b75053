"""Webshop JSON API: application factory, session settings and CSRF protection."""
import hmac
import os
import secrets

from flask import Flask, abort, jsonify, request, session

from . import auth, orders

# @asset Shop.Api (#api) -- "Flask JSON API behind the load balancer; the only backend the browser talks to"
# @owns team-checkout for Shop.Api
# @handles secrets on Shop.Api
# @flows Shop.Web -> Shop.Api via HTTPS
# @exposes Shop.Api to #session-hijack [P1] -- "the session cookie authenticates every request"
# @exposes Shop.Api to #csrf [P2] -- "state-changing endpoints are authenticated by a cookie"

# Template printed by `flask annotation-template` for people adding a handler. It is data: the
# lines inside the string must never be read as annotations of this file.
ANNOTATION_TEMPLATE = """\
@exposes Shop.Api.NewHandler to #sqli [P0] -- "describe what can go wrong"
@confirmed #sqli on Shop.Api.NewHandler [critical]
"""

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def create_app() -> Flask:
    app = Flask(__name__)
    app.secret_key = os.environ["SHOP_SESSION_KEY"]  # @audit Shop.Api -- "key rotation is manual, see runbook"

    # @mitigates Shop.Api against #session-hijack using #secure-cookies
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 60 * 60,
    )

    @app.before_request
    def check_csrf_token():
        # @mitigates Shop.Api against #csrf using #csrf-token
        if request.method not in UNSAFE_METHODS:
            return None
        expected = session.get("csrf_token")
        sent = request.headers.get("X-CSRF-Token", "")
        if not expected or not hmac.compare_digest(expected, sent):
            abort(403)
        return None

    @app.get("/api/csrf-token")
    def csrf_token():
        if "csrf_token" not in session:
            session["csrf_token"] = secrets.token_urlsafe(32)
        return jsonify(token=session["csrf_token"])

    @app.cli.command("annotation-template")
    def annotation_template():
        """Print the threat-annotation template new handlers start from."""
        print(ANNOTATION_TEMPLATE)

    app.register_blueprint(auth.bp, url_prefix="/api/auth")
    app.register_blueprint(orders.bp, url_prefix="/api")
    return app
