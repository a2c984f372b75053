// Command worker consumes order.created events and charges the customer through Stripe.
//
// The worker team writes ThreatSpec 0.5 annotations (colon paths, `with` details); the API and
// infrastructure use GAL. Both dialects share one project-wide id space, so #queue and #psp
// below are the assets declared in infra/main.tf and web/checkout.ts.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/paymentintent"
)

// @component Webshop:Worker (#worker)
// @component Webshop:Worker:Payments (#payments)
// @threat Message replay (#message_replay)
// @threat Poison message (#poison_message)
// @control Idempotency keys (#idempotency_keys)
// @control Dead-letter queue (#deadletter_queue)
// @connects #queue to #worker with AMQP 0-9-1 over TLS, manual acks after the database commit
// @connects #payments to #psp with HTTPS to the Stripe API using a restricted key

type orderCreated struct {
	Type           string `json:"type"`
	OrderID        string `json:"order_id"`
	IdempotencyKey string `json:"idempotency_key"`
}

const maxDeliveries = 5

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stripe.Key = os.Getenv("STRIPE_RESTRICTED_KEY")
	conn, err := amqp.DialTLS(os.Getenv("SHOP_AMQP_URL"), nil)
	if err != nil {
		slog.Error("amqp dial", "err", err)
		os.Exit(1)
	}
	defer conn.Close()

	ch, err := conn.Channel()
	if err != nil {
		slog.Error("amqp channel", "err", err)
		os.Exit(1)
	}
	if err := ch.Qos(8, 0, false); err != nil {
		slog.Error("amqp qos", "err", err)
		os.Exit(1)
	}
	deliveries, err := ch.ConsumeWithContext(ctx, "orders.created", "worker", false, false, false, false, nil)
	if err != nil {
		slog.Error("amqp consume", "err", err)
		os.Exit(1)
	}
	store := newStore(os.Getenv("SHOP_DATABASE_URL"))
	for d := range deliveries {
		handle(ctx, store, d)
	}
}

// handle processes one delivery. RabbitMQ delivers at least once: a message whose ack was lost
// comes back, so charging must be idempotent.
//
// @exposes Webshop:Worker to Message replay with at-least-once delivery redelivers unacked messages
// @mitigates Webshop:Worker against Message replay with Idempotency keys
// @exposes Webshop:Worker to #poison_message with a malformed event would be redelivered forever
// @mitigates Webshop:Worker against #poison_message with #deadletter_queue
// @review Webshop:Worker retry budget (5 deliveries) was sized for Stripe's 2023 incident; revisit
func handle(ctx context.Context, store *store, d amqp.Delivery) {
	var ev orderCreated
	if err := json.Unmarshal(d.Body, &ev); err != nil || ev.OrderID == "" {
		slog.Warn("dead-lettering malformed event", "message_id", d.MessageId)
		_ = d.Nack(false, false) // requeue=false: the broker routes it to orders.dlq
		return
	}
	if deliveryCount(d) >= maxDeliveries {
		_ = d.Nack(false, false)
		return
	}
	done, err := store.alreadyCharged(ctx, ev.IdempotencyKey)
	if err == nil && done {
		_ = d.Ack(false)
		return
	}
	if err := charge(ctx, store, ev); err != nil {
		slog.Error("charge failed", "order_id", ev.OrderID, "err", err)
		_ = d.Nack(false, true)
		return
	}
	_ = d.Ack(false)
}

// @mitigates Webshop:Worker:Payments against Double charge with Stripe idempotency key:
//   description: every PaymentIntent is created with Idempotency-Key = order id, so a retried
//     request returns the first intent instead of charging twice
//   ticket: PAY-88
//
// @handles financial on #payments
func charge(ctx context.Context, store *store, ev orderCreated) error {
	amount, currency, customer, err := store.orderTotal(ctx, ev.OrderID)
	if err != nil {
		return err
	}
	params := &stripe.PaymentIntentParams{
		Amount:   stripe.Int64(amount),
		Currency: stripe.String(currency),
		Customer: stripe.String(customer),
		Confirm:  stripe.Bool(true),
	}
	params.SetIdempotencyKey(ev.IdempotencyKey)
	params.Context = ctx
	pi, err := paymentintent.New(params)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.Code == stripe.ErrorCodeCardDeclined {
			return store.markDeclined(ctx, ev.OrderID)
		}
		return err
	}
	return store.markPaid(ctx, ev.OrderID, pi.ID, time.Now())
}

func deliveryCount(d amqp.Delivery) int64 {
	if n, ok := d.Headers["x-delivery-count"].(int64); ok {
		return n
	}
	return 0
}
