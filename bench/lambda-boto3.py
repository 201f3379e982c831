"""The course's Python inference Lambda (boto3 invoke_endpoint), measured for bench/lambda.bench.ts.

    lambda-boto3.py init                     -> prints seconds for `import boto3` + client creation
    lambda-boto3.py warm <warmup> <samples>  -> prints JSON latencies (ms) of lambda_handler, one per call

The endpoint is the loopback server: AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME, ENDPOINT_NAME, AWS_REGION and dummy
credentials come from the environment. botocore 1.29 (Debian) predates AWS_ENDPOINT_URL support, so the URL is
passed as endpoint_url. Results go to stderr so the handler's own prints (kept, as in the course) can go nowhere.
"""
import json
import os
import sys
import time


def measure_init():
    started = time.perf_counter()
    import boto3

    boto3.Session().client("sagemaker-runtime", endpoint_url=os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"])
    return time.perf_counter() - started


def make_course_handler():
    import boto3

    runtime = boto3.Session().client("sagemaker-runtime", endpoint_url=os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"])
    endpoint_name = os.environ["ENDPOINT_NAME"]

    # The course's handler, as written there: client at module level, event passed through as the body.
    def lambda_handler(event, context):
        print("Context:::", context)
        print("EventType::", type(event))
        response = runtime.invoke_endpoint(
            EndpointName=endpoint_name, ContentType="application/json", Accept="application/json", Body=json.dumps(event)
        )
        result = response["Body"].read().decode("utf-8")
        parsed = json.loads(result)
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "text/plain", "Access-Control-Allow-Origin": "*"},
            "type-result": str(type(result)),
            "COntent-Type-In": str(context),
            "body": json.dumps(parsed),
        }

    return lambda_handler


def measure_warm(warmup, samples):
    handler = make_course_handler()
    event = {"url": "https://images.example.com/dogs/beagle.jpg"}
    for _ in range(warmup):
        handler(event, None)
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        response = handler(event, None)
        latencies.append((time.perf_counter() - started) * 1000)
        if response["statusCode"] != 200:
            raise SystemExit("the course handler failed against the loopback server")
    return latencies


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "init":
        sys.stderr.write(json.dumps(measure_init()) + "\n")
    elif mode == "warm":
        sys.stderr.write(json.dumps(measure_warm(int(sys.argv[2]), int(sys.argv[3]))) + "\n")
    else:
        raise SystemExit("usage: lambda-boto3.py init | warm <warmup> <samples>")
