/**
 * The Lambda's image fetcher against real loopback servers: what it accepts (JPEG and PNG by content), and each
 * guarantee it shares with the endpoint's fetcher (training-scripts/tests/test_inference.py has the same cases):
 * every answer checked, the connection pinned to the checked address (DNS rebinding), TLS verified for the host
 * name, every redirect re-checked, one deadline for everything, the size limit. Every refusal is a 4xx naming
 * the URL without its query string.
 */
import { expect } from "chai";
import { fetchImage, MAX_REDIRECTS, resolveChecked, sniffImageType, type FetchOptions, type Lookup } from "../src/image-fetch";
import { RequestError } from "../src/request";
import {
    DRIBBLE_INTERVAL_MS, JPEG, localhostCertificate, png, socketsOpenedDuring, startDribblingHost, startImageHost, startTlsImageHost, type ImageHost, type TlsFiles,
} from "./support/image-hosts";

const LOOPBACK: Lookup = async () => ["127.0.0.1"];
const LOCAL: FetchOptions = { allowHttp: true, allowLocal: true, lookup: LOOPBACK, timeoutMs: 2_000, maxBytes: 64 * 1024 };
const BIG = 64 * 1024 + 1;

async function refusal(promise: Promise<unknown>): Promise<RequestError> {
    try {
        await promise;
    } catch (error) {
        if (error instanceof RequestError) return error;
        throw error;
    }
    throw new Error("expected the fetch to be refused");
}

describe("image fetcher (loopback hosts)", function () {
    this.timeout(20_000);
    let host: ImageHost;

    before(async () => {
        host = await startImageHost({
            "/dog.jpg": { status: 200, headers: { "Content-Type": "image/jpeg" }, body: JPEG },
            "/dog.png": { status: 200, headers: { "Content-Type": "application/octet-stream" }, body: png(4, 3) },
            "/page.html": { status: 200, headers: { "Content-Type": "text/html" }, body: "<html>not an image</html>" },
            "/fake.jpg": { status: 200, headers: { "Content-Type": "image/jpeg" }, body: Buffer.concat([Buffer.from("GIF89a"), Buffer.alloc(BIG)]) },
            "/empty.jpg": { status: 200, headers: { "Content-Type": "image/jpeg" } },
            "/declared-big": { status: 200, headers: { "Content-Type": "image/jpeg", "Content-Length": String(BIG) }, body: Buffer.alloc(BIG) },
            "/streamed-big": { status: 200, headers: { "Content-Type": "image/png" }, body: Buffer.concat([png(), Buffer.alloc(BIG)]) },
            "/redirect-to-png": { status: 302, headers: { Location: "/dog.png" } },
            "/redirect-metadata": { status: 301, headers: { Location: "http://169.254.169.254/latest/meta-data/" } },
            "/redirect-documentation": { status: 307, headers: { Location: "https://192.0.2.10/dog.jpg" } },
            "/redirect-file": { status: 302, headers: { Location: "file:///etc/passwd" } },
            "/redirect-credentials": { status: 302, headers: { Location: "http://user:pw@127.0.0.1/dog.jpg" } },
            "/redirect-to-name": { status: 302, headers: { Location: "http://metadata.example/latest" } },
            "/redirect-loop": { status: 302, headers: { Location: "/redirect-loop" } },
            "/redirect-nowhere": { status: 302 },
            "/slow-redirect": { status: 302, headers: { Location: "/slow-redirect" }, delayMs: 300 },
            "/slow": { status: 200, headers: { "Content-Type": "image/jpeg" }, body: JPEG, delayMs: 5_000 },
        });
    });
    after(() => host.close());

    it("fetches a JPEG and a PNG, recognised by their bytes whatever the declared type", async () => {
        expect(await fetchImage(new URL(`${host.url}/dog.jpg`), LOCAL)).to.deep.equal({ bytes: JPEG, contentType: "image/jpeg" });
        expect(await fetchImage(new URL(`${host.url}/dog.png`), LOCAL)).to.deep.equal({ bytes: png(4, 3), contentType: "image/png" });
    });

    it("refuses what is not a JPEG or PNG as soon as its first bytes arrive, whatever the server declares", async () => {
        for (const path of ["/page.html", "/fake.jpg", "/empty.jpg"]) {
            const error = await refusal(fetchImage(new URL(`${host.url}${path}?token=hunter2`), LOCAL));
            expect(error.statusCode, path).to.equal(400);
            expect(error.code).to.equal("ImageRejected");
            expect(error.message).to.include(`${host.url}${path} did not return a JPEG or PNG`).and.not.include("hunter2");
        }
        // The GIF's body is over the size limit: refused for its first bytes, not for its size.
        expect((await refusal(fetchImage(new URL(`${host.url}/fake.jpg`), LOCAL))).message).to.include("declared type image/jpeg");
    });

    it("refuses a body over the limit with 413, declared or streamed", async () => {
        for (const path of ["/declared-big", "/streamed-big"]) {
            const error = await refusal(fetchImage(new URL(`${host.url}${path}`), LOCAL));
            expect(error.statusCode, path).to.equal(413);
            expect(error.message).to.include(`${host.url}${path}`).and.include(`limit`).and.include(String(LOCAL.maxBytes));
        }
    });

    it("names the URL and the status of an answer other than 200", async () => {
        const error = await refusal(fetchImage(new URL(`${host.url}/missing.jpg?X-Amz-Signature=abc`), LOCAL));
        expect(error).to.include({ statusCode: 400, code: "ImageRejected", message: `${host.url}/missing.jpg answered HTTP 404` });
    });

    it("names the URL of a host that refuses connections", async () => {
        const closed = await startImageHost({});
        await closed.close();
        const error = await refusal(fetchImage(new URL(`${closed.url}/dog.jpg`), LOCAL));
        expect(error).to.include({ statusCode: 400, code: "ImageRejected" });
        expect(error.message).to.equal(`fetching ${closed.url}/dog.jpg failed: ECONNREFUSED`);
    });

    describe("addresses", () => {
        it("checks every answer of a name and connects to nothing when one is refused", async () => {
            const { result, sockets } = await socketsOpenedDuring(() =>
                refusal(fetchImage(new URL(`http://images.example:${host.port}/dog.jpg`), { ...LOCAL, lookup: async () => ["127.0.0.1", "169.254.169.254"] })),
            );
            expect(result).to.include({ statusCode: 400, code: "InvalidUrl" });
            expect(result.message).to.include("images.example").and.include("resolves to 169.254.169.254 is the instance metadata address");
            expect(sockets).to.equal(0);
        });

        it("connects to the address it checked, never asking DNS again (rebinding)", async () => {
            const asked: string[] = [];
            // The second answer would be the metadata service: a fetcher that looked the name up again would get it.
            const rebinding: Lookup = async (name) => (asked.push(name) === 1 ? ["127.0.0.1"] : ["169.254.169.254"]);
            const before = host.hosts.length;
            const image = await fetchImage(new URL(`http://rebind.example:${host.port}/dog.jpg`), { ...LOCAL, lookup: rebinding });
            expect(image.contentType).to.equal("image/jpeg");
            expect(asked).to.deep.equal(["rebind.example"]);
            // The server at the checked address got the request, for the URL's host name.
            expect(host.hosts.slice(before)).to.deep.equal([`rebind.example:${host.port}`]);
        });

        it("refuses loopback and private answers without the local switch", async () => {
            const error = await refusal(fetchImage(new URL(`http://images.example:${host.port}/dog.jpg`), { ...LOCAL, allowLocal: false }));
            expect(error.message).to.include("resolves to 127.0.0.1 is a loopback address");
        });

        it("names the URL when its host cannot be resolved", async () => {
            const failing: Lookup = async () => {
                throw Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" });
            };
            const error = await refusal(fetchImage(new URL("https://nowhere.example/dog.jpg?sig=1"), { ...LOCAL, lookup: failing }));
            expect(error).to.include({ statusCode: 400, code: "ImageRejected", message: "cannot resolve the host of https://nowhere.example/dog.jpg (ENOTFOUND)" });
            expect((await refusal(fetchImage(new URL("https://nowhere.example/"), { ...LOCAL, lookup: async () => [] }))).message).to.include("cannot resolve");
        });

        it("resolves once per hop and hands the socket only checked addresses", async () => {
            const target = await resolveChecked(new URL("https://images.example/dog.jpg"), { lookup: async () => ["93.184.216.34", "2606:2800:220:1::1"], allowLocal: false });
            expect(target.addresses).to.deep.equal([{ address: "93.184.216.34", family: 4 }, { address: "2606:2800:220:1::1", family: 6 }]);
            expect((await resolveChecked(new URL("https://93.184.216.34/dog.jpg"), { lookup: LOOPBACK, allowLocal: false })).addresses, "a literal needs no lookup").to.deep.equal([]);
        });
    });

    describe("redirects", () => {
        it("follows a redirect to an image", async () => {
            expect((await fetchImage(new URL(`${host.url}/redirect-to-png`), LOCAL)).contentType).to.equal("image/png");
        });

        for (const [path, code, mentions] of [
            ["/redirect-metadata", "InvalidUrl", "169.254.169.254 is the instance metadata address"],
            ["/redirect-documentation", "InvalidUrl", "192.0.2.10 is a documentation address"],
            ["/redirect-file", "InvalidUrl", "must use https or http, got file:"],
            ["/redirect-credentials", "InvalidUrl", "must not contain credentials"],
            ["/redirect-to-name", "InvalidUrl", "metadata.example: it resolves to 169.254.169.254"],
            ["/redirect-loop", "ImageRejected", `redirected more than ${MAX_REDIRECTS} times`],
            ["/redirect-nowhere", "ImageRejected", "answered 302 without a Location header"],
        ]) {
            it(`re-checks ${path}: ${code}, "${mentions}"`, async () => {
                const lookup: Lookup = async (name) => (name === "metadata.example" ? ["169.254.169.254"] : ["127.0.0.1"]);
                const { result, sockets } = await socketsOpenedDuring(() => refusal(fetchImage(new URL(`${host.url}${path}`), { ...LOCAL, lookup })));
                expect(result).to.include({ statusCode: 400, code });
                expect(result.message).to.include(mentions).and.include(`${host.url}${path}`);
                if (path !== "/redirect-loop") expect(sockets, "only the first hop connects").to.equal(1);
            });
        }
    });

    describe("one deadline", () => {
        it("a slow host: a 4xx naming the URL at the deadline", async () => {
            const started = Date.now();
            const error = await refusal(fetchImage(new URL(`${host.url}/slow?sig=secret`), { ...LOCAL, timeoutMs: 300 }));
            expect(Date.now() - started).to.be.below(1_500);
            expect(error).to.include({ statusCode: 400, code: "ImageRejected", message: `fetching ${host.url}/slow timed out: no complete response within 300 ms` });
        });

        it("spans redirect hops: each hop inside the deadline, the chain past it", async () => {
            const started = Date.now();
            const error = await refusal(fetchImage(new URL(`${host.url}/slow-redirect`), { ...LOCAL, timeoutMs: 500 }));
            expect(error.message).to.include("timed out");
            expect(Date.now() - started).to.be.below(1_500);
        });

        it("covers the lookup too", async () => {
            const hanging: Lookup = () => new Promise<string[]>(() => undefined);
            const error = await refusal(fetchImage(new URL("https://slow-dns.example/dog.jpg"), { ...LOCAL, lookup: hanging, timeoutMs: 200 }));
            expect(error.message).to.equal("fetching https://slow-dns.example/dog.jpg timed out: no complete response within 200 ms");
        });

        const IMAGE_HEADERS = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n";
        for (const [name, scheme, prefix, dribble] of [
            ["headers", "http", Buffer.from("HTTP/1.1 200 OK\r\nX-Slow: "), Buffer.alloc(80, "a")],
            // A body without Content-Length cut at the deadline must not pass for the image.
            ["body", "http", Buffer.concat([Buffer.from(`${IMAGE_HEADERS}Connection: close\r\n\r\n`), JPEG.subarray(0, 4)]), Buffer.alloc(80)],
            // A TLS record header announcing a 16 KiB handshake message, then its bytes one at a time.
            ["TLS handshake", "https", Buffer.from([0x16, 0x03, 0x03, 0x40, 0x00]), Buffer.alloc(80)],
        ] as const) {
            it(`stops a host dribbling its ${name} a byte every ${DRIBBLE_INTERVAL_MS} ms`, async () => {
                const dribbling = await startDribblingHost(prefix, dribble);
                try {
                    const started = Date.now();
                    const error = await refusal(fetchImage(new URL(`${scheme}://127.0.0.1:${dribbling.port}/dog.jpg`), { ...LOCAL, timeoutMs: 400 }));
                    expect(error.message).to.include("timed out: no complete response within 400 ms");
                    // The host would go on for 80 x 100 ms = 8 s.
                    expect(Date.now() - started).to.be.below(1_500);
                } finally {
                    await dribbling.close();
                }
            });
        }
    });

    describe("TLS", () => {
        let tls: TlsFiles;
        let secure: ImageHost;
        before(async () => {
            tls = localhostCertificate();
            secure = await startTlsImageHost({
                "/dog.jpg": { status: 200, headers: { "Content-Type": "image/jpeg" }, body: JPEG },
                "/to-http": { status: 302, headers: { Location: `${host.url}/dog.jpg` } },
            }, tls);
        });
        after(() => secure.close());

        it("verifies the certificate for the URL's host name", async () => {
            const options = { ...LOCAL, allowHttp: false, ca: tls.cert };
            expect((await fetchImage(new URL(`https://localhost:${secure.port}/dog.jpg`), options)).contentType).to.equal("image/jpeg");
            // The same server by its address: the certificate does not name 127.0.0.1.
            const error = await refusal(fetchImage(new URL(`https://127.0.0.1:${secure.port}/dog.jpg`), options));
            expect(error.statusCode).to.equal(400);
            expect(error.message).to.include(`fetching https://127.0.0.1:${secure.port}/dog.jpg failed: TLS error`);
        });

        it("refuses a redirect from https down to http unless http is allowed", async () => {
            const error = await refusal(fetchImage(new URL(`https://localhost:${secure.port}/to-http`), { ...LOCAL, allowHttp: false, ca: tls.cert }));
            expect(error).to.include({ statusCode: 400, code: "InvalidUrl" });
            expect(error.message).to.include(`redirected to ${host.url}/dog.jpg, which is refused`).and.include("must use https");
            expect((await fetchImage(new URL(`https://localhost:${secure.port}/to-http`), { ...LOCAL, ca: tls.cert })).contentType).to.equal("image/jpeg");
        });

        it("refuses a certificate nobody trusts", async () => {
            const error = await refusal(fetchImage(new URL(`https://localhost:${secure.port}/dog.jpg`), { ...LOCAL, allowHttp: false }));
            expect(error.message).to.include("TLS error").and.include("self-signed");
        });
    });
});

describe("image fetcher: content sniffing", () => {
    it("knows JPEG and PNG by their first bytes, and says when it cannot tell yet", () => {
        expect(sniffImageType(JPEG.subarray(0, 8))).to.equal("image/jpeg");
        expect(sniffImageType(png().subarray(0, 8))).to.equal("image/png");
        expect(sniffImageType(Buffer.from([0x89, 0x50]))).to.equal("short");
        expect(sniffImageType(Buffer.from("GIF89a"))).to.equal(undefined);
        expect(sniffImageType(Buffer.from("<svg xmlns"))).to.equal(undefined);
    });
});
