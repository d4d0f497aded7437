import { BedrockOnDemandModel, createBedrockRuntimeClient } from '../adapters/aws/bedrock-runtime.ts';
import { makeHandler, tracer } from './runtime.ts';

/** Lambda entry point of the `InvokeOnDemand` Task state (Bedrock Runtime with adaptive retry). */
export const handler = makeHandler('InvokeOnDemand', {
  onDemand: () => new BedrockOnDemandModel(tracer.captureAWSv3Client(createBedrockRuntimeClient())),
});
