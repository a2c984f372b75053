import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldName, keyOfId, pickSymbol, symbolQueries } from '../src/lib/reveal';

test('plain diagram ids give back their key; hashed ids do not', () => {
  assert.equal(keyOfId('n_shop__api__orders'), 'shop.api.orders');
  assert.equal(keyOfId('n_support_agent'), 'support_agent');
  assert.equal(keyOfId('b_dmz'), 'dmz');
  // A component group (ThreatSpec colon path) names its component.
  assert.equal(keyOfId('g_calcapp__web'), 'calcapp.web');
  assert.equal(keyOfId('gh_calc_app_0123456789abcdef'), undefined);
  assert.equal(keyOfId('nh_data_tier_bfde10aecdb5fb8c'), undefined);
  assert.equal(keyOfId('n_a____b'), undefined);
  assert.equal(keyOfId('legend_actor'), undefined);
});

test('folding: case, space/-/_ and ./: alike, leading # or @ ignored', () => {
  assert.equal(foldName('Webshop:Worker'), foldName('webshop.worker'));
  assert.equal(foldName('Support Agent'), foldName('support_agent'));
  assert.equal(foldName('#idor'), 'idor');
});

test('queries: the key first, then the label, without duplicates', () => {
  assert.deepEqual(symbolQueries('n_shop__api', 'Shop.Api'), ['shop.api', 'Shop.Api']);
  assert.deepEqual(symbolQueries('nh_x_0123456789abcdef', 'Legacy Admin Panel'), ['Legacy Admin Panel']);
  assert.deepEqual(symbolQueries('n_customer', 'customer'), ['customer']);
});

test('picks the symbol that names the element, not a fuzzy neighbour', () => {
  const symbols = [
    { name: 'Shop.Api.Orders' },
    { name: 'Shop.Api' },
    { name: 'Data Tier', containerName: '#data-tier' },
  ];
  assert.equal(pickSymbol(symbols, ['shop.api', 'Shop.Api'])?.name, 'Shop.Api');
  assert.equal(pickSymbol(symbols, ['data_tier'])?.name, 'Data Tier');
  assert.equal(pickSymbol(symbols, ['shop']), undefined);
});
