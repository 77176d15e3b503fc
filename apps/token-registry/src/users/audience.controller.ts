import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiKeyGuard, ZodPipe } from '@app/http';
import { DatabaseUnavailableInterceptor } from '../database/database-unavailable.interceptor';
import { UserPathSchema, type UserPath } from '../devices/device.dto';
import {
  AttributeNamesPipe,
  MergeAttributesBodySchema,
  ReplaceAttributesBodySchema,
  TagsBodySchema,
  TagsQuerySchema,
  type MergeAttributesInput,
  type ReplaceAttributesInput,
  type TagsInput,
  type TagsQuery,
} from './audience.dto';
import { AudienceService, type AttributesView, type TagsView } from './audience.service';

/** A user's tags (issue 16): the audience of tag pushes. */
@Controller('v1/apps/:appId/users/:userId/tags')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class TagsController {
  constructor(private readonly audience: AudienceService) {}

  @Get()
  get(@Param(new ZodPipe(UserPathSchema)) path: UserPath): Promise<TagsView> {
    return this.audience.tags(path);
  }

  /** Replaces the user's tags with the given set. */
  @Put()
  @HttpCode(200)
  replace(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
    @Body(new ZodPipe(TagsBodySchema)) body: TagsInput,
  ): Promise<TagsView> {
    return this.audience.changeTags(path, { op: 'replace', tags: body.tags });
  }

  /** Adds the given tags to the user's (the others stay). */
  @Post()
  @HttpCode(200)
  add(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
    @Body(new ZodPipe(TagsBodySchema)) body: TagsInput,
  ): Promise<TagsView> {
    return this.audience.changeTags(path, { op: 'add', tags: body.tags });
  }

  /** Removes the tags named by `tag` query parameters, or all of them without one. */
  @Delete()
  @HttpCode(200)
  remove(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
    @Query(new ZodPipe(TagsQuerySchema)) query: TagsQuery,
  ): Promise<TagsView> {
    return this.audience.changeTags(path, { op: 'remove', tags: query.tags });
  }
}

/** A user's string attributes (issue 16): the audience of attribute pushes. */
@Controller('v1/apps/:appId/users/:userId/attributes')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class AttributesController {
  constructor(private readonly audience: AudienceService) {}

  @Get()
  get(@Param(new ZodPipe(UserPathSchema)) path: UserPath): Promise<AttributesView> {
    return this.audience.attributes(path);
  }

  /** Replaces the user's attributes (`{}` removes them all). */
  @Put()
  @HttpCode(200)
  replace(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
    @Body(new AttributeNamesPipe(), new ZodPipe(ReplaceAttributesBodySchema))
    body: ReplaceAttributesInput,
  ): Promise<AttributesView> {
    return this.audience.changeAttributes(path, { op: 'replace', attributes: body.attributes });
  }

  /** Sets the named attributes and keeps the others; `null` removes one. */
  @Patch()
  @HttpCode(200)
  merge(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
    @Body(new AttributeNamesPipe(), new ZodPipe(MergeAttributesBodySchema))
    body: MergeAttributesInput,
  ): Promise<AttributesView> {
    return this.audience.changeAttributes(path, { op: 'merge', attributes: body.attributes });
  }
}
