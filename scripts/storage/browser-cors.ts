// The bucket CORS rule a local S3 server needs for the web apps: the browser PUTs presigned uploads and GETs
// downloads straight from the bucket, so the apps' origins may PUT, GET and HEAD (any header; the presigned URL
// is what authorises). Used by s3rver under `npm run dev` and in the browser tests; cloud buckets are configured
// in their own console.
export function browserCorsXml(origins: string[]): string {
  const allowed = origins.map((origin) => `<AllowedOrigin>${origin}</AllowedOrigin>`).join('');
  return (
    `<CORSConfiguration><CORSRule>${allowed}<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>` +
    `<AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>`
  );
}
