import {
  MAX_USER_ATTRIBUTES,
  MAX_USER_TAGS,
  UserAttributeKeySchema,
  UserAttributeValueSchema,
  UserTagSchema,
} from '@app/contracts';
import { ValidationProblem } from '@app/http';
import { Injectable, type PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { sortedTags } from '../snapshot/snapshot.builder';

/*
 * Tags and attributes of a user (issue 16): the audience of tag and attribute pushes. Bounds are
 * the contract's (`UserTagsSchema`, `UserAttributesSchema` in libs/contracts): a request can never
 * hold more than a user may store.
 */

const tagList = z.array(UserTagSchema).max(MAX_USER_TAGS);

/**
 * `PUT .../tags` (replace the set) and `POST .../tags` (add to it): `{ "tags": [...] }`, at most
 * 50 entries. Order and repeats do not matter: the set is stored unique and sorted.
 */
export const TagsBodySchema = z
  .strictObject({ tags: tagList })
  .transform((v) => ({ tags: sortedTags(v.tags) }));
export type TagsInput = z.output<typeof TagsBodySchema>;

/**
 * `DELETE .../tags?tag=a&tag=b` removes the named tags; without `tag` every tag. Any other query
 * parameter is refused: a misspelt `?tags=vip` must not remove them all.
 */
export const TagsQuerySchema = z
  .looseObject({
    tag: z.preprocess((v) => (typeof v === 'string' ? [v] : v), tagList.min(1)).optional(),
  })
  .superRefine((query, ctx) => {
    for (const name of Object.keys(query)) {
      if (name !== 'tag') {
        ctx.addIssue({ code: 'custom', path: [name], message: 'not a query parameter (only tag)' });
      }
    }
  })
  .transform((v) => ({ tags: v.tag === undefined ? undefined : sortedTags(v.tag) }));
export type TagsQuery = z.output<typeof TagsQuerySchema>;

const attributes = <V extends z.ZodType>(value: V) =>
  z
    .record(UserAttributeKeySchema, value)
    .refine((a) => Object.keys(a).length <= MAX_USER_ATTRIBUTES, {
      message: `at most ${MAX_USER_ATTRIBUTES} attributes`,
    });

/** `PUT .../attributes`: `{ "attributes": { "city": "berlin" } }` replaces them all. */
export const ReplaceAttributesBodySchema = z.strictObject({
  attributes: attributes(UserAttributeValueSchema),
});
export type ReplaceAttributesInput = z.output<typeof ReplaceAttributesBodySchema>;

/**
 * `PATCH .../attributes`: sets the attributes it names and keeps the others; `null` removes one.
 * At most 20 entries per request (the stored cap is checked on the result).
 */
export const MergeAttributesBodySchema = z.strictObject({
  attributes: attributes(UserAttributeValueSchema.nullable()),
});
export type MergeAttributesInput = z.output<typeof MergeAttributesBodySchema>;

/**
 * Refuses the attribute name `__proto__` before the body's schema runs: it matches the name rule,
 * but a record parses it as the object's prototype and drops it, so it would silently not be
 * stored. (JSON.parse makes it an own property, which is how it is found here.)
 */
@Injectable()
export class AttributeNamesPipe implements PipeTransform<unknown, unknown> {
  transform(body: unknown): unknown {
    const attrs = (body as { attributes?: unknown } | null)?.attributes;
    if (attrs && typeof attrs === 'object' && Object.hasOwn(attrs, '__proto__')) {
      throw new ValidationProblem([
        { field: 'attributes.__proto__', message: 'a reserved name, not an attribute name' },
      ]);
    }
    return body;
  }
}
