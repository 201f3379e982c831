/** A Price List catalog for us-east-1: the products the project's prices come from, and look-alikes that must not be picked. */
import type { CatalogProduct } from "./pricing-server";

export const region = "us-east-1";
export const ml = (sku: string, instanceName: string, component: string, usd: string, usagetype: string): CatalogProduct => ({
    serviceCode: "AmazonSageMaker",
    sku,
    productFamily: "ML Instance",
    attributes: { regionCode: region, instanceName, instanceType: `${instanceName}-${component}`, component, usagetype, location: "US East (N. Virginia)" },
    usd,
    unit: "Hrs",
});
export const ec2 = (sku: string, attrs: Record<string, string>, usd: string): CatalogProduct => ({
    serviceCode: "AmazonEC2",
    sku,
    productFamily: "Compute Instance",
    attributes: { regionCode: region, instanceType: "m5.xlarge", operatingSystem: "Linux", tenancy: "Shared", preInstalledSw: "NA", capacitystatus: "Used", licenseModel: "No License required", usagetype: "BoxUsage:m5.xlarge", ...attrs },
    usd,
    unit: "Hrs",
});

/** Real products of the keys the prod stack needs, next to their look-alikes that must not be picked. */
export function catalog(): CatalogProduct[] {
    const products: CatalogProduct[] = [
        ml("HOSTM5L", "ml.m5.large", "Hosting", "0.1150000000", "USE1-Host:ml.m5.large"),
        ml("TRAINM5L", "ml.m5.large", "Training", "0.1150000000", "USE1-Train:ml.m5.large"),
        ml("TRAINM5XL", "ml.m5.xlarge", "Training", "0.2300000000", "USE1-Train:ml.m5.xlarge"),
        ml("HOSTM5XL", "ml.m5.xlarge", "Hosting", "0.2300000000", "USE1-Host:ml.m5.xlarge"),
        ml("NBM5L", "ml.m5.large", "Notebook", "0.1150000000", "USE1-Notebk:ml.m5.large"),
        { ...ml("HOSTM5LW2", "ml.m5.large", "Hosting", "0.1150000000", "USW2-Host:ml.m5.large"), attributes: { regionCode: "us-west-2", instanceName: "ml.m5.large", component: "Hosting", usagetype: "USW2-Host:ml.m5.large" } },
        ec2("EC2M5XL", {}, "0.1920000000"),
        ec2("EC2M5XLWIN", { operatingSystem: "Windows", usagetype: "BoxUsage:m5.xlarge" }, "0.3760000000"),
        ec2("EC2M5XLDED", { tenancy: "Dedicated", usagetype: "DedicatedUsage:m5.xlarge" }, "0.2110000000"),
        ec2("EC2M5XLRES", { capacitystatus: "UnusedCapacityReservation", usagetype: "UnusedBox:m5.xlarge" }, "0.1920000000"),
        { serviceCode: "AmazonEC2", sku: "GP3", productFamily: "Storage", attributes: { regionCode: region, volumeApiName: "gp3", usagetype: "EBS:VolumeUsage.gp3" }, usd: "0.0800000000", unit: "GB-Mo" },
        { serviceCode: "AWSLambda", sku: "PCARM", productFamily: "Serverless", attributes: { regionCode: region, group: "AWS-Lambda-Provisioned-Concurrency-ARM", usagetype: "USE1-Lambda-Provisioned-Concurrency-ARM" }, usd: "0.0000033334", unit: "Lambda-GB-Second" },
        { serviceCode: "AWSLambda", sku: "PCX86", productFamily: "Serverless", attributes: { regionCode: region, group: "AWS-Lambda-Provisioned-Concurrency", usagetype: "USE1-Lambda-Provisioned-Concurrency" }, usd: "0.0000041667", unit: "Lambda-GB-Second" },
        { serviceCode: "AWSLambda", sku: "DURARM", productFamily: "Serverless", attributes: { regionCode: region, group: "AWS-Lambda-Duration-Provisioned-ARM", usagetype: "USE1-Lambda-Provisioned-GB-Second-ARM" }, usd: "0.0000077500", unit: "Lambda-GB-Second" },
        { serviceCode: "AmazonApiGateway", sku: "HTTPREQ", productFamily: "API Calls", attributes: { regionCode: region, usagetype: "USE1-ApiGatewayHttpRequest" }, usd: "0.0000010000", unit: "Requests" },
        // REST API requests cost more: a query that matched them would overprice the HTTP API.
        { serviceCode: "AmazonApiGateway", sku: "RESTREQ", productFamily: "API Calls", attributes: { regionCode: region, usagetype: "USE1-ApiGatewayRequest" }, usd: "0.0000035000", unit: "Requests" },
        { serviceCode: "awskms", sku: "KMSKEY", productFamily: "Encryption Key", attributes: { regionCode: region, usagetype: "USE1-KMS-Keys" }, usd: "1.0000000000", unit: "Keys" },
        { serviceCode: "awskms", sku: "KMSREQ", productFamily: "Encryption Key", attributes: { regionCode: region, usagetype: "USE1-KMS-Keys-Requests" }, usd: "0.0000030000", unit: "Requests" },
        { serviceCode: "AmazonCloudWatch", sku: "CWSTORE", productFamily: "Storage Snapshot", attributes: { regionCode: region, usagetype: "USE1-TimedStorage-ByteHrs" }, usd: "0.0300000000", unit: "GB-Mo" },
        { serviceCode: "AmazonS3", sku: "S3STD", productFamily: "Storage", attributes: { regionCode: region, volumeType: "Standard", usagetype: "TimedStorage-ByteHrs" }, usd: "0.0230000000", unit: "GB-Mo", moreTiers: [{ beginRange: "51200", usd: "0.0220000000" }] },
        { serviceCode: "AmazonSageMaker", sku: "SRV3PC", productFamily: "ML Serverless", attributes: { regionCode: region, usagetype: "USE1-ServerlessInf-PC:Mem-3GB" }, usd: "0.0000144000", unit: "Second" },
    ];
    products.push(
        { serviceCode: "AmazonCloudWatch", sku: "CWALARM", productFamily: "Alarm", attributes: { regionCode: region, usagetype: "USE1-CW:AlarmMonitorUsage" }, usd: "0.1000000000", unit: "Alarms" },
        { serviceCode: "AmazonCloudWatch", sku: "CWALARMHR", productFamily: "Alarm", attributes: { regionCode: region, usagetype: "USE1-CW:HighResAlarmMonitorUsage" }, usd: "0.3000000000", unit: "Alarms" },
    );
    for (const gb of [1, 2, 3, 4, 5, 6]) {
        products.push({ serviceCode: "AmazonSageMaker", sku: `SRV${gb}`, productFamily: "ML Serverless", attributes: { regionCode: region, usagetype: `USE1-ServerlessInf:Mem-${gb}GB` }, usd: (0.00002 * gb).toFixed(10), unit: "Second" });
    }
    // More look-alike log usage types than one page holds, before the real one: the fetcher must follow NextToken.
    for (let i = 0; i < 130; i++) {
        products.push({ serviceCode: "AmazonCloudWatch", sku: `CWV${i}`, productFamily: "Data Payload", attributes: { regionCode: region, usagetype: `USE1-VendedLog${i}-DataProcessing-Bytes` }, usd: "0.2500000000", unit: "GB" });
    }
    products.push({ serviceCode: "AmazonCloudWatch", sku: "CWINGEST", productFamily: "Data Payload", attributes: { regionCode: region, usagetype: "USE1-DataProcessing-Bytes" }, usd: "0.5000000000", unit: "GB" });
    return products;
}

