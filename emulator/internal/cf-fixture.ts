/**
 * The `request.cf` object every request carries. Miniflare would otherwise fetch one from the network
 * at start; the harness never leaves the machine.
 */
export const CF_FIXTURE = {
  asn: 13335,
  asOrganization: 'Cloudflare',
  colo: 'LHR',
  country: 'GB',
  city: 'London',
  continent: 'EU',
  region: 'England',
  regionCode: 'ENG',
  postalCode: 'EC1A',
  latitude: '51.50740',
  longitude: '-0.12780',
  timezone: 'Europe/London',
  metroCode: '0',
  httpProtocol: 'HTTP/1.1',
  tlsVersion: 'TLSv1.3',
  tlsCipher: 'AEAD-AES128-GCM-SHA256',
  clientTcpRtt: 1,
  requestPriority: '',
  edgeRequestKeepAliveStatus: 1,
  clientAcceptEncoding: 'gzip, deflate, br',
  botManagement: { score: 99, verifiedBot: false, staticResource: false, corporateProxy: false, ja3Hash: '', ja4: '', jsDetection: { passed: false }, detectionIds: [] },
  tlsClientAuth: { certPresented: '0', certVerified: 'NONE', certRevoked: '0', certIssuerDN: '', certSubjectDN: '', certIssuerDNRFC2253: '', certSubjectDNRFC2253: '', certIssuerDNLegacy: '', certSubjectDNLegacy: '', certSerial: '', certIssuerSerial: '', certSKI: '', certIssuerSKI: '', certFingerprintSHA1: '', certFingerprintSHA256: '', certNotBefore: '', certNotAfter: '' },
} as const
