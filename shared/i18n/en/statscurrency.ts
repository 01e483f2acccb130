/** The Statistics page's valuation currency picker (StatsCurrency.vue). */
export default {
  label: 'Valued in',
  placeholder: 'e.g. USDT, USDC, BTC, EUR',
  apply: 'Apply',
  saving: 'Saving…',
  hint: 'Figures and equity snapshots from now on are valued in this currency.',
  changed: 'Figures now valued in {currency}.',
  empty: 'Type a currency code.',
  other: 'Other…',
  typed: 'Currency code',
};
