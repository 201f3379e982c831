/**
 * The Lambda's early DNS check: a host name whose addresses fall outside the address policy (a name pointing at
 * 127.0.0.1, at a NAT64 spelling of the metadata service, ...) is refused before the endpoint is invoked.
 *
 * The endpoint stays the authoritative check: it resolves the name again, checks every address and connects to
 * the one it checked, so an answer that changes between the two lookups (DNS rebinding) gains nothing. Hence
 * this check fails open: a lookup that errs or takes longer than LOOKUP_TIMEOUT_MS passes the request on, where
 * the endpoint refuses what it cannot fetch. Verdicts are kept per host for CACHE_MS so warm requests for the
 * same host pay no lookup.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { addressRefusal } from "./address-policy";

/** Every address a host name resolves to. */
export type Lookup = (hostname: string) => Promise<string[]>;

export const systemLookup: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

export const LOOKUP_TIMEOUT_MS = 1000;
const CACHE_MS = 30_000;
const CACHE_ENTRIES = 1000;

export class HostChecker {
    private readonly verdicts = new Map<string, { refusal: string | undefined; until: number }>();

    constructor(
        private readonly lookup: Lookup,
        private readonly allowLocal: boolean,
        private readonly now: () => number = Date.now,
    ) {}

    /** Why the URL's host may not be fetched from, or undefined (an IP literal is judged when the URL is parsed). */
    async refusal(url: URL): Promise<string | undefined> {
        const host = url.hostname;
        if (isIP(host.replace(/^\[|\]$/g, "")) !== 0) return undefined;
        const cached = this.verdicts.get(host);
        if (cached !== undefined && cached.until > this.now()) return cached.refusal;
        const refusal = await this.judge(host);
        if (this.verdicts.size >= CACHE_ENTRIES) this.verdicts.delete(this.verdicts.keys().next().value as string);
        this.verdicts.set(host, { refusal, until: this.now() + CACHE_MS });
        return refusal;
    }

    private async judge(host: string): Promise<string | undefined> {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), LOOKUP_TIMEOUT_MS);
        });
        let addresses: string[] | undefined;
        try {
            addresses = await Promise.race([this.lookup(host), timeout]);
        } catch {
            addresses = undefined; // fail open: the endpoint resolves and refuses for itself
        } finally {
            clearTimeout(timer);
        }
        for (const address of addresses ?? []) {
            const refusal = addressRefusal(address, this.allowLocal);
            if (refusal !== undefined) return `it resolves to ${refusal}`;
        }
        return undefined;
    }
}
