// Characters XML 1.0 cannot carry: the codec sends strings holding them as base64, and the signature
// checks accept such base64 where a string is declared (it is how that string travels).

/** Characters XML 1.0 cannot carry at all, even escaped (tab, LF and CR are allowed). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const XML_ILLEGAL_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
