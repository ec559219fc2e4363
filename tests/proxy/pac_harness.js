// Evaluates a PAC file's FindProxyForURL for a list of URLs, the way a browser's PAC engine
// does: the script runs in a fresh context holding only the PAC helper functions (Netscape's
// specification, as Chromium and Firefox implement them). Resolution is IP-literal only: a
// helper asked to resolve a name records it instead of querying DNS, so the test can require
// that the script never makes the browser wait for DNS.
//
//   node pac_harness.js FILE.pac URL...   prints {"results": {url: answer}, "dns_lookups": [...]}
"use strict";
const fs = require("fs");
const vm = require("vm");

const dnsLookups = [];
const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function ipv4Number(text) {
  const m = ipv4.exec(text);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return null;
  return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}

function dnsResolve(host) {
  if (ipv4Number(host) !== null) return host;
  dnsLookups.push(host);
  return null;  // as a browser whose lookup failed
}

const helpers = {
  // Chromium: no dot, and no colon (an IPv6 literal is not a plain name).
  isPlainHostName: (host) => host.indexOf(".") < 0 && host.indexOf(":") < 0,
  dnsDomainIs: (host, domain) =>
    host.length >= domain.length && host.substring(host.length - domain.length) === domain,
  localHostOrDomainIs: (host, hostdom) =>
    host === hostdom || hostdom.lastIndexOf(host + ".", 0) === 0,
  isResolvable: (host) => dnsResolve(host) !== null,
  isInNet: (host, pattern, mask) => {
    const address = dnsResolve(host);
    if (address === null) return false;
    const m = ipv4Number(mask);
    return ((ipv4Number(address) & m) >>> 0) === ((ipv4Number(pattern) & m) >>> 0);
  },
  dnsResolve,
  myIpAddress: () => "192.168.1.50",
  dnsDomainLevels: (host) => host.split(".").length - 1,
  // Shell glob: * any run, ? one character, everything else literal.
  shExpMatch: (text, pattern) => {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    return new RegExp("^" + source + "$").test(text);
  },
  weekdayRange: () => true,
  dateRange: () => true,
  timeRange: () => true,
  alert: () => {},
};

const [pacFile, ...urls] = process.argv.slice(2);
const context = vm.createContext({ ...helpers });
vm.runInContext(fs.readFileSync(pacFile, "utf8"), context, { filename: pacFile });
const results = {};
for (const url of urls) {
  // Browsers pass the host without the brackets of an IPv6 literal (Chromium, Firefox).
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
  results[url] = context.FindProxyForURL(url, host);
}
process.stdout.write(JSON.stringify({ results, dns_lookups: dnsLookups }));
