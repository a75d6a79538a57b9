"""A real RFC 3161 time-stamp authority on 127.0.0.1, for the trusted-timestamp tests.

Not a conftest: tests import it. The authority signs genuine ``TimeStampResp`` messages
(CMS SignedData over a TSTInfo, with an ESS signing-certificate-v2 attribute) with its own key
and certificate, so c2pa and provsdk check them exactly as they would a public TSA's. Its
clock is a knob: a test sets :attr:`TimestampAuthority.clock` to say a token was issued at a
time inside, or outside, a signer certificate's validity without waiting for it to pass.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TSA_POLICY = "1.3.6.1.4.1.59999.3161.1"  # an arc for tests; real TSAs name their own policy


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "provsdk test TSA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class TsaCredentials:
    """A TSA root and a time-stamping leaf under it."""

    root: x509.Certificate
    leaf: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    root_key: ec.EllipticCurvePrivateKey

    @classmethod
    def make(
        cls,
        not_before: dt.datetime | None = None,
        days: int = 3650,
        usage: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.TIME_STAMPING,),
    ) -> TsaCredentials:
        """``usage`` is the leaf's (critical) extended key usage: a real TSA's is timeStamping."""
        start = not_before or _now() - dt.timedelta(days=5 * 365)
        end = start + dt.timedelta(days=days)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name("provsdk test TSA root")
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
            )
            .sign(root_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            x509.CertificateBuilder()
            .subject_name(_name("provsdk test TSA"))
            .issuer_name(root_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(list(usage)), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                critical=False,
            )
            .sign(root_key, hashes.SHA256())
        )
        return cls(root=root, leaf=leaf, key=key, root_key=root_key)

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)


@dataclass
class TimestampAuthority:
    """Answers RFC 3161 requests; records the requests it answered."""

    credentials: TsaCredentials = field(default_factory=TsaCredentials.make)
    clock: Callable[[], dt.datetime] = _now
    status: int = 0  # 0 granted; 2 rejection, for the failure tests
    requests: list[tsp.TimeStampReq] = field(default_factory=list)
    _serials: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def issue_at(self, when: dt.datetime) -> None:
        self.clock = lambda: when

    def respond(self, body: bytes) -> bytes:
        request = tsp.TimeStampReq.load(body)
        request.native  # noqa: B018 - parse it all now, so a malformed request fails here
        self.requests.append(request)
        if self.status != 0:
            # A refusal is a TimeStampResp holding only its status (asn1crypto insists on a
            # token, so the one-field SEQUENCE is written by hand; it is a few bytes long).
            status = tsp.PKIStatusInfo({"status": self.status, "fail_info": {"bad_request"}})
            body = status.dump()
            return b"\x30" + bytes([len(body)]) + body
        info = tsp.TSTInfo(
            {
                "version": 1,
                "policy": request["req_policy"].native or TSA_POLICY,
                "message_imprint": request["message_imprint"],
                "serial_number": next(self._serials),
                "gen_time": self.clock().replace(microsecond=0),
                "nonce": request["nonce"].native,
                "tsa": asn1_x509.GeneralName(
                    name="directory_name",
                    value=asn1_x509.Name.load(self.credentials.leaf.subject.public_bytes()),
                ),
            }
        )
        content = info.dump()
        leaf_der = self.credentials.leaf.public_bytes(serialization.Encoding.DER)
        leaf = asn1_x509.Certificate.load(leaf_der)
        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(content).digest()]}
                ),
                cms.CMSAttribute(
                    {
                        "type": "signing_certificate_v2",
                        "values": [
                            {
                                "certs": [
                                    {
                                        "hash_algorithm": {"algorithm": "sha256"},
                                        "cert_hash": hashlib.sha256(leaf_der).digest(),
                                    }
                                ]
                            }
                        ],
                    }
                ),
            ]
        )
        signature = self.credentials.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        certificates = [leaf] if request["cert_req"].native else []
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": core.ParsableOctetString(content),
                },
                "certificates": certificates,
                "signer_infos": [
                    {
                        "version": "v1",
                        "sid": cms.SignerIdentifier(
                            name="issuer_and_serial_number",
                            value={
                                "issuer": leaf.issuer,
                                "serial_number": leaf.serial_number,
                            },
                        ),
                        "digest_algorithm": {"algorithm": "sha256"},
                        "signed_attrs": signed_attrs,
                        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                        "signature": signature,
                    }
                ],
            }
        )
        token = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
        granted = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})
        return bytes(granted.dump())


class _Handler(BaseHTTPRequestHandler):
    authority: TimestampAuthority

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        try:
            answer, status = self.authority.respond(body), 200
        except ValueError:
            answer, status = b"bad request", 400
        self.send_response(status)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextlib.contextmanager
def serve_tsa(
    authority: TimestampAuthority | None = None,
) -> Iterator[tuple[str, TimestampAuthority]]:
    """Run ``authority`` on a free loopback port; yield its URL and the authority."""
    authority = authority or TimestampAuthority()
    handler = type("Handler", (_Handler,), {"authority": authority})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", authority
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
