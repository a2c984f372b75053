<?php
/**
 * Legacy back-office CSV export (2017). Still annotated in the ThreatSpec 0.1 syntax it was
 * written with; scheduled for removal once the new back office ships.
 *
 * @alias boundary @internet to Internet
 * @alias boundary @dmz to DMZ
 * @alias component @internet:@staff_browser to Staff Browser
 * @alias component @dmz:@legacy_admin to Legacy Admin Panel
 * @alias threat @csv_injection to CSV Formula Injection
 * @describe component @dmz:@legacy_admin as PHP 7.4 admin panel behind HTTP basic auth and the office VPN
 * @connects @internet:@staff_browser to @dmz:@legacy_admin as order export
 */

require __DIR__ . '/../bootstrap.php';

// @exposes @dmz:@legacy_admin to @csv_injection with customer names are written into spreadsheet cells
// @mitigates @dmz:@legacy_admin against @csv_injection with a leading quote on cells starting with a formula character
function csv_cell(string $value): string
{
    if ($value !== '' && strpbrk($value[0], "=+-@\t\r") !== false) {
        $value = "'" . $value;
    }
    return '"' . str_replace('"', '""', $value) . '"';
}

// @review @dmz:@legacy_admin no new features; the export moves to the new back office (SHOP-402)
$from = DateTimeImmutable::createFromFormat('Y-m-d', $_GET['from'] ?? '') ?: new DateTimeImmutable('-30 days');
$stmt = $pdo->prepare('SELECT id, customer_name, total_cents, status FROM orders WHERE created_at >= ? ORDER BY created_at');
$stmt->execute([$from->format('Y-m-d')]);

header('Content-Type: text/csv; charset=utf-8');
header('Content-Disposition: attachment; filename="orders.csv"');
echo "id,customer,total_eur,status\r\n";
foreach ($stmt as $row) {
    echo implode(',', [
        csv_cell($row['id']),
        csv_cell($row['customer_name']),
        number_format($row['total_cents'] / 100, 2, '.', ''),
        csv_cell($row['status']),
    ]), "\r\n";
}
