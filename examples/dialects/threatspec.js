// ThreatSpec 0.5: every verb and form once (a chat service). Snapshot input for the model.
'use strict';

const crypto = require('crypto');

// @component Chat:Gateway (#chat_gateway)
// @component Chat:Gateway:Rooms (#chat_rooms)
// @component External:ChatUser (#chat_user)
// @component Chat Relay (Chat:Relay)
// @threat Message Flooding (#message_flooding)
// @threat Room Takeover (#room_takeover)
// @control Per-connection Quota (#perconnection_quota)
// @control Room Owner Check (#room_owner_check)

// @connects #chat_user to #chat_gateway with WebSocket over TLS
// @connects Chat:Gateway with Chat:Relay with Redis pub/sub
// @connects #chat_gateway to #chat_rooms
// @exposes Chat:Gateway:Rooms to #room_takeover with room ids are guessable
// @mitigates Chat:Gateway:Rooms against #room_takeover with #room_owner_check
// @exposes Chat:Gateway to Message Flooding with one socket can send unlimited frames
// @mitigate Chat:Gateway against Message Flooding with Per-connection Quota
// @expose Chat:Relay to Eavesdropping with relay traffic is plaintext inside the VPC
// @accepts Eavesdropping to Chat:Relay with VPC-only, no customer data in frames
// @exposes Chat:Gateway to DDoS with public endpoint
// @transfers DDoS from Chat:Gateway to External:CDN with the CDN absorbs volumetric attacks
// @accept Slow Consumer to Chat:Relay with a slow subscriber only delays itself
// @transfer Abuse Reports from Chat:Gateway:Rooms to External:TrustAndSafety with handled by the T&S team
// @connect Chat:Relay to Chat:Archive with nightly export
// @review Chat:Gateway quota numbers come from load test LT-12
// @tests #room_owner_check for #chat_rooms
// @test Per-connection Quota for Chat:Gateway

/*
Extended form, written the way threatspec 0.5 itself can read it: a block comment without
leading `*` (it sees each `//` line as a separate comment and keeps the `*` in YAML lines).

@mitigates Chat:Gateway against Replayed Join with Signed Join Tokens:
  description: join tokens are HMAC-signed and expire after 60 seconds
  ticket: CHAT-17

(threatspec 0.5 needs text after the blank line that ends the block: it strips the comment.)
*/
function verifyJoinToken(token, secret, now = Date.now()) {
  const [roomId, expires, mac] = String(token).split('.');
  if (!roomId || !expires || !mac || Number(expires) < now) return null;
  const expected = crypto.createHmac('sha256', secret).update(`${roomId}.${expires}`).digest('hex');
  const ok = expected.length === mac.length &&
    crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(mac));
  return ok ? roomId : null;
}

module.exports = { verifyJoinToken };
