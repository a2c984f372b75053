"""Security regression tests for the order endpoints (pytest, against a throwaway database)."""
import pytest


@pytest.fixture
def client(app_with_test_db):
    return app_with_test_db.test_client()


# @validates #parameterised-queries for Shop.Api.Orders
def test_status_filter_is_not_interpolated(client, logged_in):
    res = client.get("/api/orders", query_string={"status": "open' OR '1'='1"})
    assert res.status_code == 400


# @validates #csrf-token for Shop.Api
def test_post_without_csrf_token_is_rejected(client, logged_in):
    res = client.post("/api/orders", json={"items": [{"sku_id": 1, "quantity": 1}]})
    assert res.status_code == 403
