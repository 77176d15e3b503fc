import { Module } from '@nestjs/common';
import { OutcomeQueries } from '../api/outcomes.queries';
import { DiagnosisController } from './diagnosis.controller';
import { DiagnosisReader } from './diagnosis.reader';

/** The support diagnosis: `GET /v1/apps/{appId}/users/{userId}/diagnosis`. */
@Module({
  controllers: [DiagnosisController],
  providers: [DiagnosisReader, OutcomeQueries],
})
export class DiagnosisModule {}
