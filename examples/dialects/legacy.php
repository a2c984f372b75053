<?php
// ThreatSpec 0.1 ("universal" syntax of pythreatspec): every verb once (a wiki, LAMP style).
// Snapshot input for the model.

// @alias boundary @www to Public Internet
// @alias boundary @lan to Wiki LAN
// @alias component @www:@reader to Wiki Reader
// @alias component @lan:@wiki_app to Wiki Application
// @alias component @lan:@wiki_db to Wiki Database
// @alias component @lan:@hosting_storage to Hosting Provider Block Storage
// @alias threat @wiki_sqli to Wiki SQL Injection
// @describe boundary @lan as the office network behind the firewall
// @describe component @lan:@wiki_app as PHP 5 application served by Apache
// @describe threat @wiki_sqli as attacker-controlled page titles reaching SQL
// @connects @www:@reader to @lan:@wiki_app as page view
// @connects @lan:@wiki_app with @lan:@wiki_db as page storage
// @exposes @lan:@wiki_app to @wiki_sqli with page title concatenated into the query
// @mitigates @lan:@wiki_app against @wiki_sqli with mysqli prepared statements
// @exposes @lan:@wiki_db to @cwe_311_missing_encryption_of_sensitive_data with disk not encrypted
// @transfers @cwe_311_missing_encryption_of_sensitive_data to @lan:@hosting_storage with the provider encrypts volumes at rest
// @exposes @www:@reader to denial of service with no caching in front of Apache
// @accepts denial of service to @www:@reader with the wiki is internal-facing
// @review @lan:@wiki_app migrate to PDO before the PHP 8 upgrade

function wiki_page(mysqli $db, string $title): ?array
{
    $stmt = $db->prepare('SELECT title, body, updated_at FROM pages WHERE title = ?');
    $stmt->bind_param('s', $title);
    $stmt->execute();
    $row = $stmt->get_result()->fetch_assoc();
    return $row ?: null;
}
