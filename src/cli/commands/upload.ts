import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import type { OperatorClients } from '../../adapters/aws/deployment.ts';
import { keys } from '../../core/keys.ts';
import { ConfigError } from '../../errors.ts';
import { addStackOptions, operatorClients, resolveTargets, type StackOptions } from '../aws-stack.ts';
import { EXIT, type Io } from '../io.ts';
import { collectInputs } from '../pipeline.ts';

export interface UploadOptions extends StackOptions {
  type?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

const TYPE_NAME = /^[a-z0-9][a-z0-9_-]*$/i;

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * Puts each file under `incoming/<type>/<name>` in the stack's bucket, where its upload starts one
 * ingest execution. Large files go up in parallel multipart parts. Returns the exit code.
 */
export async function uploadDocuments(
  paths: readonly string[],
  options: UploadOptions,
  clients: Pick<OperatorClients, 's3' | 'cfn'>,
  io: Io,
): Promise<number> {
  const inputs = await collectInputs(paths, options.type);
  for (const input of inputs) {
    if (!TYPE_NAME.test(input.type)) {
      throw new ConfigError(
        `"${input.display}" would be uploaded as document type "${input.type}" (its folder's name), which is not a type name. Fix: pass --type T (letters, digits, '-' or '_'), e.g. --type invoice.`,
      );
    }
  }
  const { bucket } = await resolveTargets(
    clients,
    options,
    ['bucket'],
    options.bucket ? { bucket: options.bucket } : {},
  );
  const { uploadFile } = await import('../../adapters/aws/deployment.ts');
  const used = new Set<string>();
  for (const input of inputs) {
    const name = basename(input.path);
    let key = keys.incoming(input.type, name);
    // Two inputs with one name in one upload must not overwrite each other.
    for (let n = 2; used.has(key); n++) {
      const ext = extname(name);
      key = keys.incoming(input.type, `${name.slice(0, name.length - ext.length)}-${n}${ext}`);
    }
    used.add(key);
    const contentType = CONTENT_TYPES[extname(name).toLowerCase()];
    const { size: bytes } = await uploadFile(clients.s3, {
      bucket,
      key,
      path: input.path,
      ...(contentType ? { contentType } : {}),
    });
    io.out(`uploaded ${input.display} → s3://${bucket}/${key} (${size(bytes)})\n`);
  }
  io.out(
    `${inputs.length} document${inputs.length === 1 ? '' : 's'} uploaded; each starts an ingest execution (docbatch executions --stack ${options.stack} shows them).\n`,
  );
  return EXIT.ok;
}

/** `docbatch upload <files…>`: documents into a deployed stack's bucket. */
export function registerUpload(program: Command, io: Io): void {
  const command = program
    .command('upload')
    .description(
      'Upload documents to a deployed stack: each lands under incoming/<type>/ and is OCR’d and staged at once.',
    )
    .argument('<paths...>', 'files or directories (a file’s type is its parent folder’s name unless --type)')
    .option('--type <type>', 'document type for every file: a schema name such as invoice or receipt');
  addStackOptions(command, { bucket: true })
    .addHelpText(
      'after',
      `
Examples:
  $ docbatch upload scans/*.pdf --type invoice --stack Docbatch
  $ docbatch upload samples/documents --stack Docbatch --region eu-west-1
  $ docbatch upload receipt.jpg --type receipt --bucket my-docbatch-bucket

Files above 8 MiB are sent as parallel multipart uploads. AWS credentials come from the SDK's
default chain (AWS_PROFILE, environment, SSO).`,
    )
    .action(async (paths: string[], opts: UploadOptions) => {
      process.exitCode = await uploadDocuments(paths, opts, await operatorClients(opts.region), io);
    });
}
