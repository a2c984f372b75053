/**
 * Checkout page: shows the basket, mounts the Stripe card element and places the order.
 *
 * Annotating new code? Copy this pattern. It is quoted documentation, so it sits in a shield
 * region and is not read as annotations:
 * @shield:begin
 * @exposes Shop.Web.NewWidget to #threat-id [P2] -- "what can go wrong"
 * @mitigates Shop.Web.NewWidget against #threat-id using #control-id
 * @shield:end
 */
import { loadStripe, type Stripe, type StripeCardElement } from "@stripe/stripe-js";

// @asset Shop.Web (#web) -- "single-page frontend served from the CDN, runs in the customer's browser"
// @asset Shop.Web.Checkout (#checkout)
// @asset Shop.Psp (#psp) -- "Stripe: tokenises cards and runs the payment intents"
// @feature "Checkout"
// @flows Shop.Web.Checkout -> Shop.Api.Orders via HTTPS
// @flows Shop.Web.Checkout -> Shop.Psp via HTTPS

interface BasketLine {
  skuId: number;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

const money = new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" });

// @exposes Shop.Web.Checkout to #xss [P1] -- "product names are merchant-supplied text"
// @mitigates Shop.Web.Checkout against #xss using #output-encoding
export function renderBasket(list: HTMLElement, lines: BasketLine[]): void {
  list.replaceChildren(
    ...lines.map((line) => {
      const li = document.createElement("li");
      li.textContent = `${line.quantity} x ${line.name}: ${money.format((line.quantity * line.unitPriceCents) / 100)}`;
      return li;
    }),
  );
}

// @exposes Shop.Web.Checkout to #card-skimming [P0] -- "a compromised script on this page could read card input"
// @transfers #card-skimming from Shop.Web.Checkout to Shop.Psp -- "card fields are Stripe Elements iframes;"
// -- "card numbers never enter our DOM, which keeps us at PCI DSS SAQ A"
export async function mountCard(container: HTMLElement): Promise<[Stripe, StripeCardElement]> {
  const stripe = await loadStripe(document.body.dataset.stripeKey ?? "");
  if (!stripe) throw new Error("Stripe.js failed to load");
  const card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount(container);
  return [stripe, card];
}

async function csrfToken(): Promise<string> {
  const res = await fetch("/api/csrf-token", { credentials: "same-origin" });
  return (await res.json()).token;
}

// @mitigates Shop.Web.Checkout against #csfr using #csrf-token -- "sends the X-CSRF-Token header"
export async function placeOrder(lines: BasketLine[]): Promise<string> {
  const res = await fetch("/api/orders", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": await csrfToken() },
    body: JSON.stringify({ items: lines.map((l) => ({ sku_id: l.skuId, quantity: l.quantity })) }),
  });
  if (!res.ok) throw new Error(`order failed: HTTP ${res.status}`);
  return (await res.json()).id;
}
