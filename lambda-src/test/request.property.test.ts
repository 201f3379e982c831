/**
 * Property-based tests (fast-check) of the handler's request parsing, URL validation, image fetcher and log
 * redaction, through the real handler with the SDK client mocked (aws-sdk-client-mock) and the resolver injected
 * (the same properties training-scripts/tests/test_address_policy.py states for the endpoint's fetcher):
 * - any event gets a 2xx or 4xx JSON answer, never a throw, and SageMaker is called only for a valid request;
 * - any URL whose host is a non-global address, in any spelling the URL parser accepts, is refused with 400;
 * - any host name with such an address among its DNS answers, in any textual form, is refused with 400 and
 *   never connected to;
 * - any URL the fetcher must refuse (scheme, credentials, port, host) gets a 4xx and opens no socket;
 * - an IPv6 address carrying an IPv4 address is judged by it, in every spelling;
 * - no secret carried in a URL, in any of the forms messages quote URLs in, survives scrubbing.
 * Fixed seed and bounded runs here; `npm run fuzz` runs more with fresh seeds (see support/fuzz.ts).
 */
import { InvokeEndpointCommand, SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { mockClient } from "aws-sdk-client-mock";
import { expect } from "chai";
import fc from "fast-check";
import policy from "../../training-scripts/classifier/address_policy.json";
import { addressRefusal } from "../src/address-policy";
import { resolveChecked } from "../src/image-fetch";
import { createHandler, type HttpResponse, type LogEntry } from "../src/index";
import { scrubSecrets } from "../src/redact";
import { fuzzParameters } from "./support/fuzz";
import { servingImage, socketsOpenedDuring } from "./support/image-hosts";

const sagemaker = mockClient(SageMakerRuntimeClient);
const ANSWER = new TextEncoder().encode(JSON.stringify({ predictions: [{ label: "Beagle", index: 15, probability: 0.9 }] }));

// --- addresses and their spellings ------------------------------------------------------------------------

interface Range {
    network: bigint;
    prefix: number;
    bits: 32 | 128;
}

function parseIPv4(text: string): bigint {
    return text.split(".").reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function parseIPv6(text: string): bigint {
    const [head, tail] = text.split("::");
    const headGroups = head === "" ? [] : head.split(":");
    const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
    const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
    return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

function range(cidr: string): Range {
    const [address, prefix] = cidr.split("/");
    return address.includes(":")
        ? { network: parseIPv6(address), prefix: Number(prefix), bits: 128 }
        : { network: parseIPv4(address), prefix: Number(prefix), bits: 32 };
}

/** Any address inside the range. */
function inside(r: Range): fc.Arbitrary<bigint> {
    const hostBits = BigInt(r.bits - r.prefix);
    const base = (r.network >> hostBits) << hostBits;
    return fc.bigInt({ min: 0n, max: (1n << hostBits) - 1n }).map((host) => base | host);
}

const refusedIPv4 = fc.oneof(...policy.ipv4NonGlobal.map((entry) => inside(range(entry.network))));
const EMBEDDING_RANGES = policy.ipv6EmbeddingIPv4.map((entry) => range(entry.network));
const inEmbeddingRange = (value: bigint) => EMBEDDING_RANGES.some((r) => value >> BigInt(128 - r.prefix) === r.network >> BigInt(128 - r.prefix));
// A non-global block can contain an embedding block (Teredo inside 2001::/23), which is judged by what it carries.
const refusedPlainIPv6 = fc.oneof(...policy.ipv6NonGlobal.map((entry) => inside(range(entry.network)))).filter((value) => !inEmbeddingRange(value));
const GLOBAL_IPV4 = 0x08080808n;
/** IPv6 addresses carrying a refused IPv4 address: mapped, NAT64, 6to4, Teredo server or client. */
const refusedEmbeddingIPv6 = refusedIPv4.chain((ipv4) =>
    fc.constantFrom(
        (0xffffn << 32n) | ipv4,
        (0x64ff9bn << 96n) | ipv4,
        (0x2002n << 112n) | (ipv4 << 80n) | 1n,
        (0x20010000n << 96n) | (ipv4 << 64n) | (~GLOBAL_IPV4 & 0xffffffffn),
        (0x20010000n << 96n) | (GLOBAL_IPV4 << 64n) | (~ipv4 & 0xffffffffn),
    ),
);
const refusedIPv6 = fc.oneof(refusedPlainIPv6, refusedEmbeddingIPv6);

function randomCase(text: string, upper: boolean): string {
    return upper ? text.toUpperCase() : text;
}

/** The spellings of an IPv4 address the WHATWG URL parser turns back into it. */
function ipv4Spelling(value: bigint): fc.Arbitrary<string> {
    const bytes = [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn);
    const part = (n: bigint) => fc.constantFrom(n.toString(10), `0x${n.toString(16)}`, `0X${n.toString(16).toUpperCase()}`, `0${n.toString(8)}`);
    return fc.oneof(
        fc.tuple(...bytes.map(part)).map((parts) => parts.join(".")),
        part(value),
        fc.tuple(part(bytes[0]), part(value & 0xffffffn)).map((parts) => parts.join(".")),
        fc.tuple(part(bytes[0]), part(bytes[1]), part(value & 0xffffn)).map((parts) => parts.join(".")),
        fc.constant(`${bytes.join(".")}.`),
    );
}

function ipv6Groups(value: bigint): string[] {
    return Array.from({ length: 8 }, (_, index) => ((value >> BigInt((7 - index) * 16)) & 0xffffn).toString(16));
}

/** Textual IPv6 forms: expanded, zero-padded, compressed at any run of zero groups, with a dotted IPv4 tail. */
function ipv6Text(value: bigint): fc.Arbitrary<string> {
    const groups = ipv6Groups(value);
    const zeroRuns: [number, number][] = [];
    for (let start = 0; start < 8; start++) {
        for (let end = start + 1; end <= 8 && groups[end - 1] === "0"; end++) zeroRuns.push([start, end]);
    }
    const compressed = zeroRuns.map(([start, end]) => `${groups.slice(0, start).join(":")}::${groups.slice(end).join(":")}`);
    const low = value & 0xffffffffn;
    const dotted = `${groups.slice(0, 6).join(":")}:${[24n, 16n, 8n, 0n].map((shift) => (low >> shift) & 0xffn).join(".")}`;
    return fc.tuple(fc.constantFrom(groups.join(":"), groups.map((g) => g.padStart(4, "0")).join(":"), dotted, ...compressed), fc.boolean()).map(([text, upper]) =>
        randomCase(text, upper),
    );
}

const refusedHostSpelling = fc.oneof(refusedIPv4.chain(ipv4Spelling), refusedIPv6.chain(ipv6Text).map((text) => `[${text}]`));
const refusedAnswer = fc.oneof(
    refusedIPv4.map((value) => [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join(".")),
    refusedIPv6.chain(ipv6Text),
);

// --- events -----------------------------------------------------------------------------------------------

const urls = fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), refusedHostSpelling.map((host) => `https://${host}/dog.jpg`), fc.string());
const payloads = fc.oneof(
    fc.record({ url: urls, topK: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.double(), fc.string(), fc.constant(null)) }, { requiredKeys: ["url"] }),
    fc.dictionary(fc.string(), fc.jsonValue()),
    fc.jsonValue(),
);

function nested(depth: number, leaf: unknown, asObject: boolean): unknown {
    let value = leaf;
    for (let level = 0; level < depth; level++) value = asObject ? { url: value } : [value];
    return value;
}

const depths = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean());
const deep = depths.map(([depth, asObject]) => nested(depth, "https://example.com/a.jpg", asObject));
/** As text: JSON.stringify itself would overflow the stack on the deepest. */
const deepText = depths.map(([depth, asObject]) =>
    asObject ? `${'{"url":'.repeat(depth)}"https://example.com/a.jpg"${"}".repeat(depth)}` : `${"[".repeat(depth)}1${"]".repeat(depth)}`,
);
const bodies = fc.oneof(
    payloads.map((value) => JSON.stringify(value)),
    deepText,
    fc.string({ maxLength: 5000 }),
    fc.constant(null),
    fc.constant(undefined),
);
const contentTypes = fc.oneof(
    fc.constantFrom("application/json", "APPLICATION/JSON; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "image/jpeg", ""),
    fc.string({ maxLength: 40 }),
);
const httpEvents = fc.record(
    {
        version: fc.constantFrom("1.0", "2.0"),
        routeKey: fc.constant("POST /predict"),
        httpMethod: fc.constantFrom("POST", "GET", "post", "DELETE"),
        requestContext: fc.oneof(fc.record({ http: fc.record({ method: fc.constantFrom("POST", "PUT", "OPTIONS") }) }), fc.constant({}), fc.anything()),
        headers: fc.oneof(fc.record({ "content-type": contentTypes }), fc.record({ "Content-Type": contentTypes }), fc.dictionary(fc.string(), fc.anything())),
        body: bodies,
        isBase64Encoded: fc.boolean(),
    },
    { requiredKeys: ["requestContext"] },
).map((event) => (event.isBase64Encoded && typeof event.body === "string" ? { ...event, body: Buffer.from(event.body).toString("base64") } : event));
const events = fc.oneof(fc.anything(), payloads, deep, httpEvents);

function checkAnswer(response: HttpResponse, sdkCalls: number): void {
    expect(response.headers["Content-Type"]).to.equal("application/json");
    const body = JSON.parse(response.body) as { error?: { code: unknown; message: unknown } };
    if (response.statusCode === 200) {
        expect(sdkCalls, "a 200 comes from the endpoint").to.equal(1);
        return;
    }
    expect(response.statusCode, response.body).to.be.within(400, 499);
    expect(body.error?.code).to.be.a("string");
    expect(body.error?.message).to.be.a("string").and.not.equal("");
    expect(sdkCalls, `no SageMaker call for a refused request: ${response.body}`).to.equal(0);
}

describe("lambda handler: properties over generated events (fast-check)", function () {
    this.timeout(120_000);
    const logs: LogEntry[] = [];
    // Valid requests would reach real hosts: this property is about parsing, so the image fetch is answered here.
    const handler = createHandler({ env: { ENDPOINT_NAME: "dog-breeds" }, log: (entry) => logs.push(entry), fetchImage: servingImage().fetchImage });
    const fetching = createHandler({ env: { ENDPOINT_NAME: "dog-breeds" }, log: () => undefined, lookup: async () => ["10.0.0.1"] });

    beforeEach(() => {
        sagemaker.reset();
        sagemaker.on(InvokeEndpointCommand).resolves({ Body: ANSWER as never, $metadata: {} });
    });
    after(() => sagemaker.restore());

    it("answers any event with a 2xx or 4xx JSON response, calling SageMaker only for a valid request", async () => {
        await fc.assert(
            fc.asyncProperty(events, async (event) => {
                const before = sagemaker.commandCalls(InvokeEndpointCommand).length;
                const response = await handler(event, { awsRequestId: "fuzz" });
                checkAnswer(response, sagemaker.commandCalls(InvokeEndpointCommand).length - before);
            }),
            fuzzParameters(400),
        );
    });

    it("refuses any URL whose host is a non-global address, however it is spelt", async () => {
        await fc.assert(
            fc.asyncProperty(refusedHostSpelling, fc.constantFrom("https", "HTTPS"), async (host, scheme) => {
                const { result: response, sockets } = await socketsOpenedDuring(() => fetching({ url: `${scheme}://${host}/dog.jpg` }));
                expect(sockets, host).to.equal(0);
                expect(response.statusCode, `${host}: ${response.body}`).to.equal(400);
                expect((JSON.parse(response.body) as { error: { code: string } }).error.code).to.equal("InvalidUrl");
            }),
            fuzzParameters(400),
        );
        expect(sagemaker.commandCalls(InvokeEndpointCommand)).to.have.length(0);
    });

    it("refuses any host name that resolves to a non-global address, in any textual form", async () => {
        await fc.assert(
            fc.asyncProperty(refusedAnswer, fc.boolean(), async (answer, withZone) => {
                const spelt = withZone && answer.includes(":") ? `${answer}%eth0` : answer;
                const resolving = createHandler({ env: { ENDPOINT_NAME: "dog-breeds" }, log: () => undefined, lookup: async () => ["93.184.216.34", spelt] });
                const { result: response, sockets } = await socketsOpenedDuring(() => resolving({ url: "https://images.example.com/dog.jpg?X-Amz-Signature=0123456789abcdef" }));
                expect(sockets, `connected although ${spelt} was among the answers`).to.equal(0);
                expect(response.statusCode, `${spelt}: ${response.body}`).to.equal(400);
                expect(response.body).to.include("images.example.com").and.not.include("0123456789abcdef");
            }),
            fuzzParameters(300),
        );
        expect(sagemaker.commandCalls(InvokeEndpointCommand)).to.have.length(0);
    });
});

describe("image fetcher: properties over generated URLs and addresses (fast-check)", function () {
    this.timeout(120_000);
    // No SDK mock here: a SageMaker call would open a socket too, and none may be opened.
    const handler = createHandler({ env: { ENDPOINT_NAME: "dog-breeds" }, log: () => undefined, lookup: async () => ["10.0.0.1"] });

    const urlHosts = fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^[a-z0-9.-]{1,30}$/), refusedHostSpelling);
    const generatedUrls = fc.oneof(
        fc.string({ maxLength: 80 }),
        fc
            .tuple(
                fc.constantFrom("https", "HTTPS", "http", "ftp", "file", ""),
                fc.constantFrom("", "user@", "user:pw@", "@"),
                urlHosts,
                fc.constantFrom("", ":443", ":0", ":99999", ":-1", ":x", ":\u0663"),
                fc.string({ maxLength: 30 }),
            )
            .map(([scheme, user, host, port, path]) => `${scheme}://${user}${host}${port}/${path}`),
    );
    /** A URL whose host is a global address literal: the fetcher would rightly connect to it. */
    const namesGlobalLiteral = (text: string) => {
        try {
            const host = new URL(text).hostname;
            return /^[\d.]+$|^\[/.test(host) && addressRefusal(host) === undefined;
        } catch {
            return false;
        }
    };

    it("answers any URL it must refuse with a 4xx and opens no socket (every name resolves to 10.0.0.1)", async () => {
        await fc.assert(
            fc.asyncProperty(generatedUrls, async (url) => {
                fc.pre(!namesGlobalLiteral(url));
                const { result: response, sockets } = await socketsOpenedDuring(() => handler({ url }));
                expect(response.statusCode, `${url}: ${response.body}`).to.be.within(400, 499);
                expect(sockets, `connected for ${JSON.stringify(url)}`).to.equal(0);
            }),
            fuzzParameters(400),
        );
    });

    const allowedIPv4 = fc.bigInt({ min: 0n, max: 0xffffffffn }).filter((value) => addressRefusal([24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 0xffn).join(".")) === undefined);
    const embeddings = (ipv4: bigint) => [
        (0xffffn << 32n) | ipv4,
        (0x64ff9bn << 96n) | ipv4,
        (0x2002n << 112n) | (ipv4 << 80n) | 1n,
        (0x20010000n << 96n) | (ipv4 << 64n) | (~GLOBAL_IPV4 & 0xffffffffn),
        (0x20010000n << 96n) | (GLOBAL_IPV4 << 64n) | (~ipv4 & 0xffffffffn),
    ];
    const target = (answer: string) => resolveChecked(new URL("https://images.example/dog.jpg"), { lookup: async () => [answer], allowLocal: false });

    it("lets the socket have an IPv6 answer carrying an allowed IPv4 address, judged by that address", async () => {
        await fc.assert(
            fc.asyncProperty(allowedIPv4.chain((ipv4) => fc.constantFrom(...embeddings(ipv4))).chain(ipv6Text), async (answer) => {
                expect((await target(answer)).addresses.map((a) => a.address), answer).to.deep.equal([answer]);
            }),
            fuzzParameters(300),
        );
    });

    it("allows nothing outside 2000::/3 unless it carries an allowed IPv4 address", () => {
        fc.assert(
            fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => {
                const text = ipv6Groups(value).join(":");
                if (addressRefusal(text) === undefined && !inEmbeddingRange(value)) expect(value >> 125n, text).to.equal(1n);
            }),
            fuzzParameters(2000),
        );
    });
});

describe("log redaction: properties over generated URLs (fast-check)", () => {
    const secrets = fc.stringMatching(/^[A-Za-z0-9]{12,40}$/).map((tail) => `ZQX${tail}`);
    const names = fc.oneof(fc.constantFrom("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "x-amz-signature", "Signature"), fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/));
    const bases = fc.webUrl().filter((url) => !url.includes("?") && !url.includes("#"));
    const noise = fc.string({ maxLength: 30 }).filter((text) => !/\S$/.test(text));
    const forms: ((url: string) => string)[] = [
        (url) => url,
        (url) => url.replace(/^https?/, (scheme) => scheme.toUpperCase()),
        (url) => `"${url}"`,
        (url) => `'${url}'`,
        (url) => `<${url}>`,
        (url) => JSON.stringify({ url }).replace(/\//g, "\\/"),
        (url) => url.replace("?", "\\u003f"),
        (url) => encodeURIComponent(url),
        (url) => `https://proxy.example.com/get?u=${encodeURIComponent(url)}`,
        (url) => encodeURIComponent(encodeURIComponent(url)),
        (url) => new URL(url).pathname + new URL(url).search,
    ];

    it("leaves no query value of a URL in the scrubbed text, whatever the form and the text around it", () => {
        fc.assert(
            fc.property(bases, names, secrets, fc.constantFrom(...forms), noise, noise, (base, name, secret, form, before, after) => {
                fc.pre(!base.includes(secret) && !before.includes(secret) && !after.includes(secret));
                const text = `${before}${form(`${base}?a=1&${name}=${secret}&b=2`)}${after.length > 0 ? ` ${after}` : ""}`;
                expect(scrubSecrets(text), text).to.not.include(secret);
            }),
            fuzzParameters(1000),
        );
    });
});
