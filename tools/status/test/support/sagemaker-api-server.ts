/**
 * A loopback HTTP server speaking SageMaker's control-plane protocol (AWS JSON 1.1: `POST /` with
 * `X-Amz-Target: SageMaker.<Operation>`, `application/x-amz-json-1.1` bodies, errors as `{"__type", "message"}`),
 * so the real @aws-sdk/client-sagemaker can be pointed at it with AWS_ENDPOINT_URL_SAGEMAKER or `endpoint`.
 * Each test answers the operations it expects; any other operation gets UnknownOperationException.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface SageMakerCall {
    target: string;
    body: Record<string, unknown>;
    authorization: string;
}

/** [HTTP status, JSON payload] for one call. */
export type SageMakerAnswer = (body: Record<string, unknown>) => [number, unknown];

export interface SageMakerApiServer {
    url: string;
    calls: SageMakerCall[];
    close(): Promise<void>;
}

export async function startSageMakerApiServer(answers: Record<string, SageMakerAnswer>): Promise<SageMakerApiServer> {
    const calls: SageMakerCall[] = [];
    const server = http.createServer((req, res) => {
        let raw = "";
        req.on("data", (chunk) => (raw += chunk));
        req.on("end", () => {
            const target = String(req.headers["x-amz-target"] ?? "");
            const body = JSON.parse(raw || "{}") as Record<string, unknown>;
            calls.push({ target, body, authorization: String(req.headers.authorization ?? "") });
            const answer = answers[target];
            const [status, payload] = answer ? answer(body) : [400, { __type: "UnknownOperationException", message: target }];
            res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
            res.end(JSON.stringify(payload));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        calls,
        close: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            // The SDK keeps its connections alive; they would hold the server (and the test process) open.
            server.closeAllConnections();
        }),
    };
}

/** SageMaker's JSON protocol sends timestamps as epoch seconds. */
export function epochSeconds(date: Date): number {
    return date.getTime() / 1000;
}
