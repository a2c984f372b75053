"""GuardLink GAL 1.0: every verb once (a small blog engine). Snapshot input for the model."""
import hashlib
import sqlite3

# --- definitions -------------------------------------------------------------------------
# @asset Blog.Web (#blog-web) -- "public pages and the comment form"
# @asset Blog.Admin (#blog-admin)
# @asset Blog.Store (#blog-store) -- "SQLite database file"
# @asset Blog.Cdn
# @threat Comment Spam (#blog-spam) [P3]
# @threat Stored XSS in Comments (#blog-stored-xss) [high] cwe:CWE-79 owasp:A03:2021
# @threat Admin Password Guessing (#blog-pw-guess) [P1] attack:T1110 capec:CAPEC-49
# @threat Debug Endpoint Left On (#blog-debug) [critical] cwe:CWE-489
# @threat Cache Poisoning (#blog-cache-poison) [medium]
# @control HTML Sanitiser (#blog-sanitiser) -- "bleach with an allow-list of tags"
# @control Comment Captcha (#blog-captcha)
# @actor Editor (#blog-editor) -- "writes and publishes posts"

# --- relationships -----------------------------------------------------------------------
# @mitigates Blog.Web against #blog-stored-xss using #blog-sanitiser
# @mitigates Blog.Web against Comment Spam with Comment Captcha
# @exposes Blog.Admin to #blog-pw-guess [P1] cwe:CWE-307 -- "no lockout on /admin/login;"
# -- "only the reverse proxy rate limits"
# @confirmed #blog-debug on Blog.Admin [P0] -- "pentest 2024-05: /admin/_debug reachable"
# @exposes Blog.Web to #blog-spam [low]
# @accepts #blog-spam on Blog.Web -- "moderation queue catches the rest"
# @accepts #blog-cache-poison to Blog.Cdn
# @exposes Blog.Cdn to #blog-cache-poison [P2]
# @transfers #blog-cache-poison from Blog.Cdn to Blog.Web
# @flows Blog.Web -> Blog.Store via sqlite3
# @flows Blog.Admin -> Blog.Store
# @boundary between Blog.Web and Blog.Store (#blog-db-edge)
# @boundary Blog.Cdn | Blog.Web (#blog-cdn-edge)
# @entitles #blog-editor to publish on Blog.Admin against #blog-pw-guess
# @feature "Comments"

# --- lifecycle ---------------------------------------------------------------------------
# @validates #blog-sanitiser for Blog.Web
# @audit Blog.Admin -- "login flow reviewed 2024-06"
# @owns team-blog for Blog.Store
# @handles pii on Blog.Store
# @assumes Blog.Cdn -- "the CDN strips Set-Cookie from cached responses"
# @comment -- "free text that belongs to the threat model"

# --- special -----------------------------------------------------------------------------
# @shield
# @exposes Blog.Web to #not-parsed-after-shield [P0]
def save_comment(db: sqlite3.Connection, post_id: int, body: str) -> None:
    # @shield:begin
    # @exposes Blog.Web to #not-parsed-in-region [P0]
    # @shield:end
    digest = hashlib.sha256(body.encode()).hexdigest()
    db.execute("INSERT INTO comments (post_id, body, digest) VALUES (?, ?, ?)", (post_id, body, digest))
