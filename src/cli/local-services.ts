import type { MupdfReader } from '../adapters/documents/mupdf-reader.ts';
import {
  LocalBedrockBatch,
  type LocalBedrockBatchOptions,
} from '../adapters/local/bedrock/batch-emulator.ts';
import { LocalOnDemandModel } from '../adapters/local/bedrock/local-on-demand.ts';
import { LocalTextract, type LocalTextractFaults } from '../adapters/local/textract/local-textract.ts';
import type { LocalOcrEngineName, OcrEngine } from '../adapters/local/textract/ocr-engine.ts';
import { PaddleOcr } from '../adapters/local/textract/paddle-ocr.ts';
import { TesseractPool } from '../adapters/local/textract/tesseract-pool.ts';
import type { ObjectStore, OnDemandModel } from '../ports.ts';
import type { Binding } from './local-engine.ts';

export interface LocalServicesOptions {
  /** The configured model and its minimum: the emulator enforces the same quota AWS would. */
  model?: { id: string; minRecordsPerJob: number };
  textractFaults?: LocalTextractFaults;
  bedrock?: Omit<LocalBedrockBatchOptions, 'store'>;
  /** The Textract stand-in's OCR engine (config `ocr.localEngine`; default "paddle"). */
  ocrEngine?: LocalOcrEngineName;
  /** Pages OCR'd at once, one core each: tesseract worker threads or PP-OCR pages (default: min(2, cores)). */
  ocrWorkers?: number;
}

/**
 * The configured engine. Neither loads anything yet: tesseract starts its workers and PP-OCR its
 * sessions on the first page that needs OCR, so runs over digital PDFs pay nothing for them.
 */
export function createOcrEngine(name: LocalOcrEngineName = 'paddle', workers?: number): OcrEngine {
  if (name === 'tesseract') return new TesseractPool(workers ? { size: workers } : {});
  return new PaddleOcr(workers ? { size: workers } : {});
}

export interface LocalServices {
  textract: LocalTextract;
  bedrock: LocalBedrockBatch;
  onDemand: OnDemandModel;
  /** `service:action` of each AWS SDK integration the ASL uses → its stand-in. */
  sdk: Record<string, Binding>;
  close(): Promise<void>;
}

/** The embedded stand-ins for the AWS services the state machines call directly. */
export function createLocalServices(
  store: ObjectStore,
  reader: MupdfReader,
  options: LocalServicesOptions = {},
): LocalServices {
  const textract = new LocalTextract({
    store,
    reader,
    engine: createOcrEngine(options.ocrEngine, options.ocrWorkers),
    ...(options.textractFaults ? { faults: options.textractFaults } : {}),
  });
  const bedrock = new LocalBedrockBatch({
    store,
    ...(options.model ? { minRecordsByModel: { [options.model.id]: options.model.minRecordsPerJob } } : {}),
    ...(options.bedrock ?? {}),
  });
  const onDemand = new LocalOnDemandModel();
  // The engine hands each stand-in the state's effective input: the PascalCase request the SDK integration would send.
  const sdk: Record<string, Binding> = {
    'textract:startDocumentTextDetection': (input) => textract.startDocumentTextDetection(input as never),
    'textract:getDocumentTextDetection': (input) => textract.getDocumentTextDetection(input as never),
    'textract:startDocumentAnalysis': (input) => textract.startDocumentAnalysis(input as never),
    'textract:getDocumentAnalysis': (input) => textract.getDocumentAnalysis(input as never),
    'bedrock:createModelInvocationJob': (input) => bedrock.createModelInvocationJob(input as never),
    'bedrock:getModelInvocationJob': (input) => bedrock.getModelInvocationJob(input as never),
    'bedrock:stopModelInvocationJob': (input) => bedrock.stopModelInvocationJob(input as never),
  };
  return {
    textract,
    bedrock,
    onDemand,
    sdk,
    close: async () => {
      await textract.close();
    },
  };
}
