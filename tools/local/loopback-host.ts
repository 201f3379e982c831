/**
 * A host name for this machine that is not an address literal, which the handler's URL checks accept like any
 * name and then resolve to loopback (allowed only with local images on): for the page's hosted uploads and the tests'
 * image hosts.
 */
import * as dns from "node:dns/promises";
import * as os from "node:os";

function isLoopback(address: string): boolean {
    return address === "::1" || /^127\./.test(address);
}

/**
 * A host name that resolves to a loopback address without being "localhost": both the handler and the model,
 * opted in with IMAGE_FETCH_ALLOW_PRIVATE, resolve the name and accept the loopback address, so the test exercises
 * the DNS path of both checks. The machine's own host name
 * usually qualifies (/etc/hosts), and Debian's ip6-localhost does.
 */
export async function loopbackHostName(): Promise<{ name: string; address: string }> {
    for (const name of [os.hostname(), "ip6-localhost", "ip6-loopback"]) {
        try {
            const addresses = await dns.lookup(name, { all: true });
            if (addresses.length > 0 && addresses.every((entry) => isLoopback(entry.address))) return { name, address: addresses[0].address };
        } catch {
            // not resolvable here; try the next candidate
        }
    }
    throw new Error(`neither ${os.hostname()} nor ip6-localhost resolves to a loopback address on this machine; the local end-to-end tests need one`);
}

