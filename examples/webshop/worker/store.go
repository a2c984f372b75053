package main

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type store struct{ pool *pgxpool.Pool }

func newStore(url string) *store {
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		panic(err)
	}
	return &store{pool: pool}
}

func (s *store) alreadyCharged(ctx context.Context, key string) (bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM payments WHERE idempotency_key = $1`, key).Scan(&n)
	return n > 0, err
}

func (s *store) orderTotal(ctx context.Context, orderID string) (int64, string, string, error) {
	var amount int64
	var currency, customer string
	err := s.pool.QueryRow(ctx,
		`SELECT o.total_cents, o.currency, c.stripe_customer_id
		   FROM orders o JOIN customers c ON c.id = o.customer_id
		  WHERE o.id = $1`, orderID).Scan(&amount, &currency, &customer)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", "", errors.New("order not found: " + orderID)
	}
	return amount, currency, customer, err
}

func (s *store) markPaid(ctx context.Context, orderID, intentID string, at time.Time) error {
	_, err := s.pool.Exec(ctx,
		`WITH p AS (INSERT INTO payments (order_id, intent_id, idempotency_key, paid_at)
		            VALUES ($1, $2, $1, $3))
		 UPDATE orders SET status = 'paid' WHERE id = $1`, orderID, intentID, at)
	return err
}

func (s *store) markDeclined(ctx context.Context, orderID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE orders SET status = 'declined' WHERE id = $1`, orderID)
	return err
}
