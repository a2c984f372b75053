"""Order endpoints: list, fetch and place orders for the logged-in customer."""
import json
import uuid
from functools import wraps

import pika
from flask import Blueprint, abort, jsonify, request, session

from .db import execute, query, query_one

# @asset Shop.Api.Orders (#orders) -- "order history and checkout; reads and writes the orders table"
# @handles pii on Shop.Api.Orders
# @handles financial on Shop.Api.Orders
# @owns team-checkout for Shop.Api.Orders
# @flows Shop.Api.Orders -> Shop.Queue via AMQP

bp = Blueprint("orders", __name__)
ALLOWED_STATUSES = {"open", "paid", "shipped", "cancelled"}


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if "customer_id" not in session:
            abort(401)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/orders")
@login_required
def list_orders():
    # @exposes Shop.Api.Orders to #sqli [P0] -- "the status filter comes from the query string"
    # @mitigates Shop.Api.Orders against #sqli using #parameterised-queries
    status = request.args.get("status", "open")
    if status not in ALLOWED_STATUSES:
        abort(400)
    rows = query(
        "SELECT id, status, total_cents, created_at FROM orders"
        " WHERE customer_id = %s AND status = %s ORDER BY created_at DESC LIMIT 100",
        (session["customer_id"], status),
    )
    return jsonify(orders=rows)


@bp.get("/orders/<int:order_id>")
@login_required
def get_order(order_id: int):
    # @exposes Shop.Api.Orders to #idor [P1] cwe:CWE-639 -- "any logged-in customer can read any order by id:"
    # -- "the lookup filters on the order id only, not on customer_id (SHOP-311)"
    row = query_one("SELECT * FROM orders WHERE id = %s", (order_id,))
    if row is None:
        abort(404)
    return jsonify(row)


@bp.post("/orders")
@login_required
def place_order():
    body = request.get_json(force=True)
    order_id = str(uuid.uuid4())
    lines = [(int(item["sku_id"]), int(item["quantity"])) for item in body["items"]]
    execute(
        "INSERT INTO orders (id, customer_id, status, lines) VALUES (%s, %s, 'open', %s)",
        (order_id, session["customer_id"], json.dumps(lines)),
    )
    _publish({"type": "order.created", "order_id": order_id, "idempotency_key": order_id})
    return jsonify(id=order_id), 201


def _publish(event: dict) -> None:
    with pika.BlockingConnection(pika.URLParameters(_amqp_url())) as conn:
        channel = conn.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            exchange="orders",
            routing_key=event["type"],
            body=json.dumps(event).encode(),
            properties=pika.BasicProperties(delivery_mode=2, message_id=event["idempotency_key"]),
        )


def _amqp_url() -> str:
    import os
    return os.environ["SHOP_AMQP_URL"]
