import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/**
 * The OpenAPI document as a JSON Schema 2020-12 validator sees it: the whole document is added
 * to ajv once, so a `$ref` to `#/components/schemas/…` resolves where the document says, and any
 * schema in it is reached by its JSON pointer. The document's own keywords are declared as
 * annotations, so ajv stays strict about everything inside the schemas.
 */

export type Json = Record<string, unknown>;

const DOCUMENT_ID = 'https://warden.invalid/openapi.json';
const OPENAPI_KEYWORDS = ['openapi', 'info', 'jsonSchemaDialect', 'servers', 'paths', 'webhooks', 'components', 'security', 'tags', 'externalDocs'];

export class OpenApiSchemas {
  private readonly ajv: Ajv2020;

  constructor(readonly document: Json) {
    this.ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addVocabulary(OPENAPI_KEYWORDS);
    this.ajv.addSchema(document, DOCUMENT_ID);
  }

  /** The validator of the schema at a JSON pointer (`/components/schemas/Problem`); compiling it resolves every ref. */
  at(pointer: string): ValidateFunction {
    const validate = this.ajv.getSchema(`${DOCUMENT_ID}#${pointer}`);
    if (!validate) throw new Error(`no schema at ${pointer}`);
    return validate;
  }

  /** The operation's documented response for a status, `$ref`s followed; undefined when the status is not documented. */
  response(method: string, path: string, status: number): Json | undefined {
    const operation = ((this.document.paths as Record<string, Record<string, Json>>)[path] ?? {})[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${path} is not in the document`);
    let response = (operation.responses as Record<string, Json>)[String(status)];
    while (response && typeof response.$ref === 'string') response = this.resolve(response.$ref);
    return response;
  }

  /**
   * What is wrong with an answer according to the document: an undocumented status or media
   * type, a missing header, or a body that breaks the schema. Empty when it conforms.
   */
  violations(method: string, path: string, answer: { status: number; contentType: string | null; headers?: Pick<Headers, 'get'>; body: unknown }): string[] {
    const response = this.response(method, path, answer.status);
    if (!response) return [`${answer.status} is not documented for ${method} ${path}`];
    const problems: string[] = [];
    for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, Json>)) {
      const value = answer.headers?.get(name);
      if (value === null || value === undefined) {
        if (header.required === true) problems.push(`header ${name} is missing`);
      } else if (!this.ajv.validate(header.schema as Json, value)) {
        problems.push(`header ${name}: ${this.ajv.errorsText()}`);
      }
    }
    const content = (response.content ?? {}) as Record<string, Json>;
    const mediaType = (answer.contentType ?? '').split(';')[0].trim().toLowerCase();
    if (Object.keys(content).length === 0) return problems;
    if (!(mediaType in content)) return [...problems, `${mediaType || 'no content type'} is not documented for ${answer.status} (documented: ${Object.keys(content).join(', ')})`];
    const schema = content[mediaType].schema as Json;
    const validate = typeof schema.$ref === 'string' ? this.at(schema.$ref.replace(/^#/, '')) : this.ajv.compile(schema);
    if (!validate(answer.body)) problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`));
    return problems;
  }

  private resolve(ref: string): Json {
    let node: unknown = this.document;
    for (const segment of ref.replace(/^#\//, '').split('/')) {
      node = (node as Json)[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    return node as Json;
  }
}
